// What a shard does with counts per publish second (a batch's Buckets): keeps
// the seconds still retained, sums batches, reads a window of them, and turns
// them into the parts of its rows of every span (spans.ts, keys.ts partOf).
import { addCounts, partOf, type Counts } from "./keys";
import { bucketsOf } from "./spans";

/** Counts per publish second: floor(ms / 1000), as a JSON object's key. */
export type Buckets = Record<string, Counts>;

/** One of a shard's rows: the counts of one part (keys.ts) in the bucket of `span` seconds starting at `bucket`. */
export type PartRow = { span: number; bucket: number; part: string; counts: Counts };

/** The seconds of `buckets` from `oldest` on. */
export function retainedBuckets(buckets: Buckets, oldest: number): Buckets {
  return Object.fromEntries(Object.entries(buckets).filter(([second]) => Number(second) >= oldest));
}

/** Adds `more` into `total`; a count that comes to 0 is left out, and so is a second left without counts. */
export function addBuckets(total: Buckets, more: Buckets) {
  for (const [second, counts] of Object.entries(more)) {
    addCounts((total[second] ??= {}), counts);
    if (Object.keys(total[second]!).length === 0) delete total[second];
  }
}

/** The counts of the seconds [from, to), summed. */
export function countsWithin(buckets: Buckets, from: number, to: number): Counts {
  const total: Counts = {};
  for (const [second, counts] of Object.entries(buckets)) {
    if (Number(second) >= from && Number(second) < to) addCounts(total, counts);
  }
  return total;
}

/** The counts of `buckets` as what they add to the rows of every span: each (span, bucket, part) once. */
export function partRows(buckets: Buckets): PartRow[] {
  const rows = new Map<string, PartRow>();
  for (const [second, counts] of Object.entries(buckets)) {
    for (const { span, bucket } of bucketsOf(Number(second))) {
      for (const [key, n] of Object.entries(counts)) {
        const part = partOf(key);
        const id = `${span} ${bucket} ${part}`;
        let row = rows.get(id);
        if (!row) rows.set(id, (row = { span, bucket, part, counts: {} }));
        addCounts(row.counts, { [key]: n });
      }
    }
  }
  return [...rows.values()];
}
