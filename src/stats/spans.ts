// A shard keeps every count four times: in its second, its minute, its hour
// and its (UTC) day. A window is read as the coarsest whole buckets that fit
// in it and finer ones at its edges, so a 31-day window reads at most 31 days,
// 2·23 hours, 2·59 minutes and 2·59 seconds of buckets, however busy those
// seconds were, and is still exact to the second.

const DAY = 86_400;
/** Bucket lengths in seconds, coarsest first; every one divides the one before, and 1 is last. */
export const SPANS = [DAY, 3_600, 60, 1] as const;

/** Buckets of one span: [from, to) in seconds, both multiples of the span. */
export type SpanRange = { span: number; from: number; to: number };

/** The buckets that make up exactly the seconds [from, to). */
export function cover(from: number, to: number, spans: readonly number[] = SPANS): SpanRange[] {
  if (from >= to) return [];
  const [span, ...finer] = spans as [number, ...number[]];
  const start = Math.ceil(from / span) * span;
  const end = Math.floor(to / span) * span;
  if (start >= end) return cover(from, to, finer);
  return [...cover(from, start, finer), { span, from: start, to: end }, ...cover(end, to, finer)];
}

/** The bucket of each span that holds `second`: its start. */
export const bucketsOf = (second: number) => SPANS.map((span) => ({ span, bucket: second - (second % span) }));

/** Counts are kept 31 days. */
export const RETENTION_SECONDS = 31 * DAY;
