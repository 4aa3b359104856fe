// One of STATS_SHARDS objects (shards.ts) that keep the stats: each source (a
// user's or a region's object) sends its batches to one shard, which adds them
// to its counts per (span, bucket) (spans.ts). GET /admin/v1/stats sums every
// shard's counts over the window.
//
// A source's alarm may run twice, so a batch may arrive twice: the shard keeps
// the last batch number it applied per source and applies each batch once. A
// source sends its next batch only after this one is confirmed, so numbers
// only grow, and a repeat is one at or below the last.
//
// Rows written are what the stats cost. A bucket's counts are JSON, a row per
// part of them (keys.ts partOf), so a batch adds to a few rows per span, not one
// per key; and most batches share their minutes, hours and days. So a batch is
// applied by writing one row, its source's (which records the batch's number
// anyway), holding the batch; every FOLD_EVERY batches the shard folds them all
// into the buckets at once, each row they touch written once. Until then they
// are also held in memory, and counts() adds them in: a batch counts as soon as
// it is confirmed, and it was written before that, so it is never lost. The
// source rows of the current fold generation hold the batches not yet folded; a
// fold moves to the next generation in the transaction that writes the
// buckets, so each batch is folded exactly once.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { migrate } from "../shared/migrations";
import { MeteredSql } from "../shared/sql";
import { addBuckets, type Buckets, countsWithin, partRows, retainedBuckets } from "./buckets";
import type { Batch } from "./buffer";
import { addCounts, type Counts } from "./keys";
import { statsSchema } from "./schema";
import { cover, RETENTION_SECONDS, SPANS } from "./spans";

/** How often old rows are swept: they outlive the 31 days by at most this much. */
const SWEEP_MS = 60 * 60 * 1000;

/**
 * Batches applied between folds. A fold writes the rows its batches touch once,
 * so the more it folds, the more batches share each row, and the less often it
 * rewrites the large parts of today's day and hour; what the shard holds in
 * memory and reads back at a start grows with it (docs/ARCHITECTURE.md, "Stats").
 */
export const FOLD_EVERY = 1024;

export class StatsShard extends DurableObject<Env> {
  private readonly sql: MeteredSql;
  /** Whether this object has made sure, since it started, that the sweep is armed. */
  private sweepArmed = false;
  /** The fold generation of the batches applied now. */
  private generation: number;
  /** This generation's batches, summed per source: what the source's row holds. */
  private readonly unfolded = new Map<string, Buckets>();
  /** Batches applied in this generation (a source's later ones are summed into its row; after a start, the rows holding any). */
  private applied: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new MeteredSql(ctx.storage.sql);
    migrate(ctx.storage, this.sql, statsSchema);
    this.generation = this.sql.first<{ generation: number }>("SELECT generation FROM folds")!.generation;
    // A scan of the source rows at each start: an index on the generation would cost a row written per batch.
    const rows = this.sql.all<{ source: string; unfolded: string }>(
      "SELECT source, unfolded FROM sources WHERE generation = ?",
      this.generation,
    );
    for (const { source, unfolded } of rows) this.unfolded.set(source, JSON.parse(unfolded) as Buckets);
    this.applied = this.unfolded.size;
  }

  /** Adds a source's batch, unless it was applied already; answers whether it was added now. */
  async apply(source: string, batch: Batch): Promise<boolean> {
    const last = this.sql.first<{ epoch: string; batch: number }>(
      "SELECT epoch, batch FROM sources WHERE source = ?",
      source,
    );
    if (last && last.epoch === batch.epoch && last.batch >= batch.number) return false;
    const unfolded: Buckets = {};
    addBuckets(unfolded, this.unfolded.get(source) ?? {});
    addBuckets(unfolded, retainedBuckets(batch.buckets, retainedFrom(Date.now())));
    this.sql.run(
      "INSERT OR REPLACE INTO sources (source, epoch, batch, seen_at, generation, unfolded) VALUES (?, ?, ?, ?, ?, ?)",
      source,
      batch.epoch,
      batch.number,
      Date.now(),
      this.generation,
      JSON.stringify(unfolded),
    );
    this.unfolded.set(source, unfolded);
    if (++this.applied >= FOLD_EVERY) this.fold();
    await this.armSweep();
    return true;
  }

  /** This shard's counts of the messages published in the seconds [from, to). */
  counts(from: number, to: number): Counts {
    const total: Counts = {};
    for (const range of cover(from, to)) {
      const rows = this.sql.all<{ counts: string }>(
        "SELECT counts FROM parts WHERE span = ? AND bucket >= ? AND bucket < ?",
        range.span,
        range.from,
        range.to,
      );
      for (const { counts } of rows) addCounts(total, JSON.parse(counts) as Counts);
    }
    for (const buckets of this.unfolded.values()) addCounts(total, countsWithin(buckets, from, to));
    return total;
  }

  /** What this object has cost since it started, in rows read and written. */
  storageCost() {
    return this.sql.cost;
  }

  /**
   * Folds, then deletes the buckets that end before the 31 days, and the sources
   * not heard from for as long: a batch such a source sends again was drained
   * over 31 days ago, so its every count is older than what is kept and is dropped.
   */
  async alarm() {
    this.fold();
    const now = Date.now();
    const oldest = retainedFrom(now);
    for (const span of SPANS) this.sql.run("DELETE FROM parts WHERE span = ? AND bucket <= ?", span, oldest - span);
    this.sql.run("DELETE FROM sources WHERE seen_at < ?", now - RETENTION_SECONDS * 1000);
    this.sweepArmed = false;
    const left = this.sql.first("SELECT EXISTS (SELECT 1 FROM parts) OR EXISTS (SELECT 1 FROM sources) AS any");
    if (left?.any) await this.armSweep();
  }

  /** Adds this generation's batches to the buckets, each row they touch written once, and starts the next generation. */
  private fold() {
    if (this.unfolded.size === 0) return;
    const sum: Buckets = {};
    for (const buckets of this.unfolded.values()) addBuckets(sum, buckets);
    this.ctx.storage.transactionSync(() => {
      for (const { span, bucket, part, counts } of partRows(sum)) this.addToPart(span, bucket, part, counts);
      this.sql.run("UPDATE folds SET generation = ?", this.generation + 1);
    });
    this.generation++;
    this.unfolded.clear();
    this.applied = 0;
  }

  private addToPart(span: number, bucket: number, part: string, more: Counts) {
    if (Object.keys(more).length === 0) return;
    const row = this.sql.first<{ counts: string }>(
      "SELECT counts FROM parts WHERE span = ? AND bucket = ? AND part = ?",
      span,
      bucket,
      part,
    );
    const counts = row ? (JSON.parse(row.counts) as Counts) : {};
    addCounts(counts, more);
    if (Object.keys(counts).length === 0) {
      this.sql.run("DELETE FROM parts WHERE span = ? AND bucket = ? AND part = ?", span, bucket, part);
    } else {
      this.sql.run(
        "INSERT OR REPLACE INTO parts (span, bucket, part, counts) VALUES (?, ?, ?, ?)",
        span,
        bucket,
        part,
        JSON.stringify(counts),
      );
    }
  }

  private async armSweep() {
    if (this.sweepArmed) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_MS);
    this.sweepArmed = true;
  }
}

/** The first second kept at `now` (ms). */
const retainedFrom = (now: number) => Math.floor(now / 1000) - RETENTION_SECONDS;
