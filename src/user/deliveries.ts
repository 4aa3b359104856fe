// The outcome of every (message, device) pair (contract v1.1, "Arrival"): how and when the message
// first reached the device, or why it did not. One row per message: its publish time and the
// outcomes decided so far, by device, as JSON. A pair still pending has no entry: it is pending
// while the message is in the pending set above the device's acknowledgement (devices.ts), so a
// publish writes one row whatever the number of devices, and each decision rewrites its message's row.
//
// Each change goes to the stats recorder with the message's publish time, so the counts are the
// sums of these outcomes (src/stats/).
import type { Outcome, OutcomeAt, StatsRecorder } from "../stats/recorder";
import type { MeteredSql } from "../shared/sql";
import type { Device, Devices } from "./devices";
import type { HandOver, HandOvers } from "./handovers";
import type { MessageSets } from "./message-sets";

type Entry = [outcome: Outcome, at: number | null];
type Record = { seq: number; createdAt: number; outcomes: { [device: string]: Entry }; changed: boolean };
type Row = { seq: number; created_at: number; outcomes: string };

/** Outcomes that evidence of arrival from the device still turns into the arrival it proves. */
const LET_GO: readonly Outcome[] = ["expired", "evicted", "forgotten"];
const ARRIVED: readonly Outcome[] = ["push", "live", "poll"];

export type DeliveryView = { createdAt: number; devices: Map<string, OutcomeAt> };

export class Deliveries {
  constructor(
    private readonly sql: MeteredSql,
    private readonly sets: MessageSets,
    private readonly devices: Devices,
    private readonly handOvers: HandOvers,
    private readonly stats: () => StatsRecorder,
    /** Records up to this seq are gone: what else is kept for their view (their pushes) may go. */
    private readonly pruned: (upTo: number) => void,
  ) {}

  /** A new message: pending for every known device. */
  published(seq: number, createdAt: number) {
    this.sql.run("INSERT INTO deliveries (seq, created_at, outcomes) VALUES (?, ?, '{}')", seq, createdAt);
    this.stats().message(createdAt);
    for (const _ of this.devices.known()) this.stats().pair(createdAt, null, { outcome: "pending", at: null });
  }

  /** The device acknowledged `from` (exclusive) to `upTo`: each pair still open there arrived by the route of its last hand-over. */
  acknowledged(device: Device, from: number, upTo: number, now: number) {
    const records = this.recordsIn(from, upTo);
    const pending = this.sets.pendingSeqsIn(from, upTo);
    const lastHandOver = this.handOvers.lastOf(device.id, from);
    // The range lies above the device's acknowledgement before this one: what is in the set was pending for it.
    for (const record of records) this.confirm(record, device.id, pending.has(record.seq), lastHandOver(record.seq), now);
    this.save(records);
    this.handOvers.dropUpTo(device.id, upTo);
  }

  /**
   * The device reports that its push channel delivered `seqs` (POST /v1/inbox/arrived): each pair
   * still open, or let go of, becomes a push arrival now. Answers the seqs that did, ascending; unknown seqs are ignored.
   */
  arrived(device: Device, seqs: number[], now: number) {
    const records = this.recordsOf(seqs);
    const pending = this.sets.pendingSeqsOf(records.map((record) => record.seq));
    const recorded: number[] = [];
    for (const record of records) {
      const entry = record.outcomes[device.id];
      const open = entry === undefined ? pending.has(record.seq) && record.seq > device.acked : LET_GO.includes(entry[0]);
      if (!open) continue;
      this.change(record, device.id, { outcome: "push", at: now });
      recorded.push(record.seq);
    }
    this.save(records);
    return recorded.sort((a, b) => a - b);
  }

  /**
   * A read receipt from `reader` took `fromPending` out of the pending set and `fromUnread` out of the
   * unread set: for the reader that is evidence of arrival, for every other device with the message
   * pending the message is withdrawn (`read`).
   */
  read(reader: Device, fromPending: number[], fromUnread: number[], now: number) {
    const wasPending = new Set(fromPending);
    const records = this.recordsOf([...new Set([...fromPending, ...fromUnread])]);
    const lastHandOver = this.handOvers.lastOf(reader.id, 0);
    for (const record of records) {
      const inSet = wasPending.has(record.seq);
      this.confirm(record, reader.id, inSet && record.seq > reader.acked, lastHandOver(record.seq), now);
      for (const device of this.devices.known()) {
        if (device !== reader && this.openFor(record, device, inSet)) this.change(record, device.id, { outcome: "read", at: now });
      }
    }
    this.save(records);
  }

  /**
   * Messages that left the pending set at `at` (evicted, expired, or retracted) were not received by
   * the devices that still had them pending.
   */
  leftPending(seqs: number[], outcome: "evicted" | "expired" | "retracted", at: number) {
    if (seqs.length === 0) return;
    const records = this.recordsOf(seqs);
    const known = this.devices.known();
    for (const record of records) {
      for (const device of known) if (this.openFor(record, device, true)) this.change(record, device.id, { outcome, at });
    }
    this.save(records);
  }

  /** The device is forgotten at `at`: what it still had pending did not reach it. */
  forgotten(device: Device, at: number) {
    const pending = this.sets.pendingSeqsIn(device.acked, Number.MAX_SAFE_INTEGER);
    const records = this.recordsOf([...pending]);
    for (const record of records) {
      if (this.openFor(record, device, true)) this.change(record, device.id, { outcome: "forgotten", at });
    }
    this.save(records);
  }

  /**
   * A device seen for the first time, or again after it was forgotten: it has the whole pending set
   * pending, so each of those messages gains a pair, or gets its `forgotten` pair back as pending.
   */
  becameKnown(device: Device) {
    const records = this.recordsOf([...this.sets.pendingSeqsIn(0, Number.MAX_SAFE_INTEGER)]);
    for (const record of records) {
      const entry = record.outcomes[device.id];
      if (entry === undefined) this.stats().pair(record.createdAt, null, { outcome: "pending", at: null });
      else if (entry[0] === "forgotten") this.change(record, device.id, { outcome: "pending", at: null });
    }
    this.save(records);
  }

  /** The message's outcome per device that had it pending; undefined for a seq not (or no longer) recorded. */
  view(seq: number): DeliveryView | undefined {
    const [record] = this.recordsOf([seq]);
    if (!record) return undefined;
    const inSet = this.sets.pendingSeqsOf([seq]).has(seq);
    const devices = new Map<string, OutcomeAt>();
    for (const [device, [outcome, at]] of Object.entries(record.outcomes)) devices.set(device, { outcome, at });
    for (const device of this.devices.known()) {
      if (this.openFor(record, device, inSet)) devices.set(device.id, { outcome: "pending", at: null });
    }
    return { createdAt: record.createdAt, devices };
  }

  /**
   * Drops the records of messages published before `before` that are no longer pending (their
   * outcomes can still change while they are), at most `limit` of the oldest.
   */
  prune(before: number, limit: number) {
    const { oldest } = this.sets.pendingBounds();
    const gone = this.sql.all<{ seq: number }>(
      `DELETE FROM deliveries WHERE seq IN (
         SELECT seq FROM (SELECT seq, created_at FROM deliveries ORDER BY seq LIMIT ?) WHERE created_at < ? AND seq < ?
       ) RETURNING seq`,
      limit,
      before,
      oldest ?? Number.MAX_SAFE_INTEGER,
    );
    if (gone.length > 0) this.pruned(Math.max(...gone.map((row) => row.seq)));
  }

  /** Evidence of arrival from the device (an acknowledgement or read receipt): the earliest evidence decides. */
  private confirm(record: Record, device: string, wasPending: boolean, handOver: HandOver | undefined, now: number) {
    const entry = record.outcomes[device];
    const evidence: OutcomeAt = handOver ? { outcome: handOver.route, at: handOver.at } : { outcome: "push", at: now };
    if (entry === undefined) {
      if (wasPending) this.change(record, device, evidence);
    } else if (LET_GO.includes(entry[0])) {
      // A message postbox let go of arrived only if postbox had handed it over.
      if (handOver) this.change(record, device, evidence);
    } else if (ARRIVED.includes(entry[0]) && evidence.at! < entry[1]!) {
      this.change(record, device, evidence);
    }
  }

  /** Whether the pair is still pending: no outcome yet, the message in the pending set, above the device's acknowledgement. */
  private openFor(record: Record, device: Device, inSet: boolean) {
    return inSet && record.outcomes[device.id] === undefined && record.seq > device.acked;
  }

  private change(record: Record, device: string, to: OutcomeAt) {
    const [outcome, at] = record.outcomes[device] ?? ["pending", null];
    this.stats().pair(record.createdAt, { outcome, at }, to);
    if (to.outcome === "pending") delete record.outcomes[device];
    else record.outcomes[device] = [to.outcome, to.at];
    record.changed = true;
  }

  private recordsIn(from: number, upTo: number) {
    return this.sql.all<Row>("SELECT seq, created_at, outcomes FROM deliveries WHERE seq > ? AND seq <= ? ORDER BY seq", from, upTo).map(recordOf);
  }

  private recordsOf(seqs: number[]) {
    return this.sql.allIn<Row>("SELECT seq, created_at, outcomes FROM deliveries WHERE seq IN (?)", seqs).map(recordOf);
  }

  private save(records: Record[]) {
    for (const record of records) {
      if (record.changed) this.sql.run("UPDATE deliveries SET outcomes = ? WHERE seq = ?", JSON.stringify(record.outcomes), record.seq);
    }
  }
}

const recordOf = (row: Row): Record => ({ seq: row.seq, createdAt: row.created_at, outcomes: JSON.parse(row.outcomes), changed: false });
