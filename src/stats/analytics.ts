// When the optional Analytics Engine binding ARRIVAL_ANALYTICS is configured (docs/API.md), every
// outcome a (message, device) pair comes to is also written as a data point, for dashboards over
// Cloudflare's SQL API. The counts of GET /admin/v1/stats do not depend on it: it samples at high
// volume, and it cannot be queried locally.
import type { OutcomeAt, StatsRecorder } from "./recorder";

/**
 * The data point of one outcome: indexed by user (Analytics Engine samples per index), blobs
 * [outcome, the outcome it replaces ("pending" for a first outcome)], doubles [latency ms from
 * publish to the outcome, publish time ms].
 */
export function outcomePoint(user: string, publishedAt: number, from: OutcomeAt | null, to: OutcomeAt): AnalyticsEngineDataPoint {
  return {
    indexes: [user],
    blobs: [to.outcome, from?.outcome ?? "pending"],
    doubles: [(to.at ?? publishedAt) - publishedAt, publishedAt],
  };
}

/** `recorder`, also writing each outcome (not a pair that is, or is again, pending) to `dataset`. */
export function withAnalytics(recorder: StatsRecorder, dataset: AnalyticsEngineDataset | undefined, user: string): StatsRecorder {
  if (!dataset) return recorder;
  return {
    message: (publishedAt) => recorder.message(publishedAt),
    push: (publishedAt, channel, count) => recorder.push(publishedAt, channel, count),
    announcements: (publishedAt, n) => recorder.announcements(publishedAt, n),
    pair(publishedAt, from, to) {
      recorder.pair(publishedAt, from, to);
      if (to.outcome !== "pending") dataset.writeDataPoint(outcomePoint(user, publishedAt, from, to));
    },
  };
}
