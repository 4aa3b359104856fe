// A user's devices (contract v1.1, "Devices"): for each, how far it has
// acknowledged, when it was last seen, and the evictions it has been told of.
// At most DEVICE_LIMIT rows, known or forgotten (a device forgotten for
// inactivity keeps its row, and with it its announcement cursors), all held in
// memory, so that no hot path reads them.
//
// Pending per device needs no row per (message, device): a message is pending
// for a device while it is in the user's pending set and its seq is above the
// device's `acked`, and the set keeps a message while some known device has
// not acknowledged it (seq above the lowest `acked`). So a publish writes
// nothing here, whatever the number of devices; an ack writes its device's row.
//
// `dropped` (messages evicted while pending for the device, since its last
// answer) is counted from a log of evicted seqs. Evictions take the oldest
// message of the pending set, so evicted seqs only grow: the evictions a
// device has not been told of are those above both its `evictedSeen` (the
// newest eviction at its last answer) and its `acked`. While no device is
// known, evictions are only counted (state.ts): they are all the first
// device's to be told of.
import type { MeteredSql } from "../shared/sql";
import type { InboxState } from "./state";

export interface Device {
  readonly id: string;
  /** False once forgotten: the row stays only for its announcement cursors. */
  known: boolean;
  /** Highest seq this device has acknowledged (0: none). */
  acked: number;
  /** When it was last seen, in ms; `storedSeenAt` is what its row holds (written coarsely). */
  seenAt: number;
  storedSeenAt: number;
  /** Evictions folded into the count before `evictedSeen` moved on. */
  dropped: number;
  evictedSeen: number;
}

type DeviceRow = { device: string; known: number; acked: number; seen_at: number; dropped: number; evicted_seen: number };

export interface DeviceSettings {
  limit: number;
  ttlMs: number;
}

/** What the outcomes of its messages (deliveries.ts) and the push dispatch (dispatch.ts) need to hear of a device. */
export interface DeviceEvents {
  /** It is known again, or for the first time: the whole pending set is pending for it. */
  becameKnown(device: Device): void;
  /** It acknowledged up to its new `acked`: nothing up to there is to be pushed to it any more. */
  acknowledged(device: Device): void;
  /** It is about to be forgotten, at `at`: what it has pending will not reach it. */
  forgotten(device: Device, at: number): void;
}

export class Devices {
  private readonly all = new Map<string, Device>();
  /** The newest evicted seq (0: none yet). */
  private lastEvicted: number;

  constructor(
    private readonly sql: MeteredSql,
    private readonly state: InboxState,
    private readonly settings: () => DeviceSettings,
    private readonly events: DeviceEvents,
  ) {
    for (const row of sql.all<DeviceRow>("SELECT * FROM devices")) {
      this.all.set(row.device, {
        id: row.device,
        known: row.known === 1,
        acked: row.acked,
        seenAt: row.seen_at,
        storedSeenAt: row.seen_at,
        dropped: row.dropped,
        evictedSeen: row.evicted_seen,
      });
    }
    this.lastEvicted = sql.first<{ seq: number | null }>("SELECT max(seq) AS seq FROM evictions")?.seq ?? 0;
  }

  get(id: string) {
    return this.all.get(id);
  }

  known() {
    return [...this.all.values()].filter((device) => device.known);
  }

  /**
   * The lowest `acked` of the known devices: the pending set need not keep a
   * message at or below it. Null while no device is known (the set keeps all).
   */
  floor(): number | null {
    let floor: number | null = null;
    for (const device of this.all.values()) if (device.known && (floor === null || device.acked < floor)) floor = device.acked;
    return floor;
  }

  /**
   * A client request naming `id` at `now`. A device seen for the first time,
   * or again after it was forgotten, is new for personal messages: it has the
   * whole pending set pending. A new one beyond DEVICE_LIMIT makes the least
   * recently seen row go (a known device with it: forgotten, cursors and push channel and all).
   */
  see(id: string, now: number, isLive: (id: string) => boolean): Device {
    let device = this.all.get(id);
    if (device?.known) {
      device.seenAt = now;
      // Seen is written coarsely: every request would otherwise write a row.
      if (now - device.storedSeenAt >= this.seenGranularity()) this.write(device);
      return device;
    }
    const firstKnown = this.known().length === 0;
    if (!device) {
      while (this.all.size >= this.settings().limit) this.dropLeastRecent(now, isLive);
      device = { id, known: true, acked: 0, seenAt: now, storedSeenAt: now, dropped: 0, evictedSeen: 0 };
      this.all.set(id, device);
    }
    // The evictions while no device was known are the first one's; a later one has missed none.
    const dropped = firstKnown ? this.state.values.evictedWithoutDevice : 0;
    if (firstKnown) this.state.values.evictedWithoutDevice = 0;
    Object.assign(device, { known: true, acked: 0, seenAt: now, dropped, evictedSeen: this.lastEvicted });
    this.write(device);
    this.events.becameKnown(device);
    return device;
  }

  /** Raises the device's acknowledgement to `upTo` (never past the newest seq); answers whether it moved. */
  acknowledge(device: Device, upTo: number, lastSeq: number) {
    const acked = Math.min(upTo, lastSeq);
    if (acked <= device.acked) return false;
    device.dropped = this.dropped(device);
    device.evictedSeen = this.lastEvicted;
    device.acked = acked;
    this.write(device);
    this.events.acknowledged(device);
    return true;
  }

  /** Messages evicted while pending for the device since its last answer. */
  dropped(device: Device) {
    const since = Math.max(device.evictedSeen, device.acked);
    if (since >= this.lastEvicted) return device.dropped;
    return device.dropped + this.sql.first<{ n: number }>("SELECT count(*) AS n FROM evictions WHERE seq > ?", since)!.n;
  }

  /** The device was answered: `dropped` starts again from 0. */
  answered(device: Device) {
    if (device.dropped === 0 && device.evictedSeen >= this.lastEvicted) return;
    device.dropped = 0;
    device.evictedSeen = this.lastEvicted;
    this.write(device);
    this.pruneEvictions();
  }

  /** Seqs the pending set evicted (oldest first), for the devices that had them pending. Edits the state only. */
  evicted(seqs: number[]) {
    if (seqs.length === 0) return;
    if (this.known().length === 0) this.state.values.evictedWithoutDevice += seqs.length;
    else for (const seq of seqs) this.sql.run("INSERT INTO evictions (seq) VALUES (?)", seq);
    this.lastEvicted = seqs.at(-1)!;
  }

  /** The earliest moment a known device without a live connection may be forgotten, or null. */
  nextForgetAt(isLive: (id: string) => boolean) {
    let next: number | null = null;
    for (const device of this.known()) {
      if (isLive(device.id)) continue;
      const at = device.seenAt + this.settings().ttlMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Forgets the known devices unseen for DEVICE_TTL_SECONDS; a live one is seen now instead. Answers their ids. */
  forgetUnseen(now: number, isLive: (id: string) => boolean) {
    const forgotten: string[] = [];
    for (const device of this.known()) {
      if (isLive(device.id)) {
        this.see(device.id, now, isLive);
      } else if (device.seenAt + this.settings().ttlMs <= now) {
        this.events.forgotten(device, device.seenAt + this.settings().ttlMs);
        device.known = false;
        this.write(device);
        forgotten.push(device.id);
      }
    }
    // With no device known, no one is left to tell of the logged evictions.
    if (forgotten.length > 0 && this.known().length === 0) this.sql.run("DELETE FROM evictions");
    return forgotten;
  }

  /** The least recently seen row goes; a device with an open live connection counts as seen now. */
  private dropLeastRecent(now: number, isLive: (id: string) => boolean) {
    const lastSeen = (device: Device) => (isLive(device.id) ? Infinity : device.seenAt);
    const oldest = [...this.all.values()].reduce((a, b) => (lastSeen(b) < lastSeen(a) ? b : a));
    if (oldest.known) this.events.forgotten(oldest, now);
    this.all.delete(oldest.id);
    this.sql.run("DELETE FROM devices WHERE device = ?", oldest.id);
    this.sql.run("DELETE FROM device_cursors WHERE device = ?", oldest.id);
    this.sql.run("DELETE FROM push_registrations WHERE device = ?", oldest.id);
    this.sql.run("DELETE FROM hand_overs WHERE device = ?", oldest.id);
  }

  /** Evictions every known device has been told of (or has acknowledged) are of use to no one. */
  private pruneEvictions() {
    const known = this.known();
    if (known.length === 0) return;
    const told = Math.min(...known.map((device) => Math.max(device.evictedSeen, device.acked)));
    this.sql.run("DELETE FROM evictions WHERE seq <= ?", told);
  }

  /** How stale a device's stored last-seen may get: DEVICE_TTL/64, at most an hour. */
  private seenGranularity() {
    return Math.min(this.settings().ttlMs / 64, 3_600_000);
  }

  private write(device: Device) {
    device.storedSeenAt = device.seenAt;
    this.sql.run(
      `INSERT OR REPLACE INTO devices (device, known, acked, seen_at, dropped, evicted_seen) VALUES (?, ?, ?, ?, ?, ?)`,
      device.id,
      device.known ? 1 : 0,
      device.acked,
      device.seenAt,
      device.dropped,
      device.evictedSeen,
    );
  }
}
