// One of STATS_SHARDS objects (shards.ts) that keep the stats: each source (a
// user's or a region's object) sends its batches to one shard, which adds them
// to its counts per (span, bucket, key) (spans.ts). GET /admin/v1/stats sums
// every shard's counts over the window.
//
// A source's alarm may run twice, so a batch may arrive twice: the shard keeps
// the last batch number it applied per source and applies each batch once. A
// source sends its next batch only after this one is confirmed, so numbers
// only grow, and a repeat is one at or below the last.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { migrate } from "../shared/migrations";
import { MeteredSql } from "../shared/sql";
import type { Batch } from "./buffer";
import { addCounts, type Counts } from "./keys";
import { statsSchema } from "./schema";
import { bucketsOf, cover, RETENTION_SECONDS, SPANS } from "./spans";

/** How often old rows are swept: they outlive the 31 days by at most this much. */
const SWEEP_MS = 60 * 60 * 1000;

type Row = { span: number; bucket: number; key: string; n: number };

export class StatsShard extends DurableObject<Env> {
  private readonly sql: MeteredSql;
  /** Whether this object has made sure, since it started, that the sweep is armed. */
  private sweepArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new MeteredSql(ctx.storage.sql);
    migrate(ctx.storage, this.sql, statsSchema);
  }

  /** Adds a source's batch, unless it was applied already; answers whether it was added now. */
  async apply(source: string, batch: Batch): Promise<boolean> {
    const last = this.sql.first<{ epoch: string; batch: number }>(
      "SELECT epoch, batch FROM sources WHERE source = ?",
      source,
    );
    if (last && last.epoch === batch.epoch && last.batch >= batch.number) return false;
    const rows = rowsOf(batch, retainedFrom(Date.now()));
    this.ctx.storage.transactionSync(() => {
      for (const { span, bucket, key, n } of rows) {
        this.sql.run(
          "INSERT INTO counts (span, bucket, key, n) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
          span,
          bucket,
          key,
          n,
        );
      }
      this.sql.run(
        "INSERT OR REPLACE INTO sources (source, epoch, batch, seen_at) VALUES (?, ?, ?, ?)",
        source,
        batch.epoch,
        batch.number,
        Date.now(),
      );
    });
    await this.armSweep();
    return true;
  }

  /** This shard's counts of the messages published in the seconds [from, to). */
  counts(from: number, to: number): Counts {
    const total: Counts = {};
    for (const range of cover(from, to)) {
      const rows = this.sql.all<{ key: string; n: number }>(
        "SELECT key, sum(n) AS n FROM counts WHERE span = ? AND bucket >= ? AND bucket < ? GROUP BY key",
        range.span,
        range.from,
        range.to,
      );
      addCounts(total, Object.fromEntries(rows.map(({ key, n }) => [key, n])));
    }
    return total;
  }

  /**
   * Deletes the buckets that end before the 31 days, and the sources not heard
   * from for as long: a batch such a source sends again was drained over 31
   * days ago, so its every count is older than what is kept and is dropped.
   */
  async alarm() {
    const now = Date.now();
    const oldest = retainedFrom(now);
    for (const span of SPANS) this.sql.run("DELETE FROM counts WHERE span = ? AND bucket <= ?", span, oldest - span);
    this.sql.run("DELETE FROM sources WHERE seen_at < ?", now - RETENTION_SECONDS * 1000);
    this.sweepArmed = false;
    const left = this.sql.first("SELECT EXISTS (SELECT 1 FROM counts) OR EXISTS (SELECT 1 FROM sources) AS any");
    if (left?.any) await this.armSweep();
  }

  private async armSweep() {
    if (this.sweepArmed) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_MS);
    this.sweepArmed = true;
  }
}

/** The first second kept at `now` (ms). */
const retainedFrom = (now: number) => Math.floor(now / 1000) - RETENTION_SECONDS;

/** A batch's counts as rows of every span, summed per row; seconds before `oldest` are dropped. */
function rowsOf(batch: Batch, oldest: number): Row[] {
  const rows = new Map<string, Row>();
  for (const [second, counts] of Object.entries(batch.buckets)) {
    if (Number(second) < oldest) continue;
    for (const { span, bucket } of bucketsOf(Number(second))) {
      for (const [key, n] of Object.entries(counts)) {
        const id = `${span} ${bucket} ${key}`;
        const row = rows.get(id);
        if (row) row.n += n;
        else rows.set(id, { span, bucket, key, n });
      }
    }
  }
  return [...rows.values()].filter((row) => row.n !== 0);
}
