// GET /admin/v1/stats's answer, from the counts summed over every shard.
import type { PushChannel } from "../push/channel";
import type { StatsAnswer } from "../shared/responses";
import { percentiles } from "./histogram";
import { ANNOUNCEMENTS, latencyBins, MESSAGES, outcomeKey, pushKey, type Counts } from "./keys";
import type { ArrivalRoute, Outcome } from "./recorder";

/**
 * The seconds whose buckets a window [from, to) (ms) counts: every second that
 * overlaps it, so an edge inside a second takes that whole second in.
 */
export function windowSeconds({ from, to }: { from: number; to: number }): [from: number, to: number] {
  const first = Math.floor(from / 1000);
  return [first, from === to ? first : Math.ceil(to / 1000)];
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((total, n) => total + n, 0);
/** a ÷ b, null when b is 0. */
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

export function statsReport(window: { from: number; to: number }, counts: Counts): StatsAnswer {
  const get = (key: string) => counts[key] ?? 0;
  const outcome = (name: Outcome) => get(outcomeKey(name));
  const arrived = { push: outcome("push"), live: outcome("live"), poll: outcome("poll") };
  const withdrawn = { read: outcome("read"), retracted: outcome("retracted") };
  const notArrived = {
    expired: outcome("expired"),
    evicted: outcome("evicted"),
    forgotten: outcome("forgotten"),
    pending: outcome("pending"),
  };
  const deliveries = sum(arrived) + sum(withdrawn) + sum(notArrived);
  const latency = (route: ArrivalRoute) => percentiles(latencyBins(counts, route));
  const channel = (name: PushChannel) => ({
    sent: get(pushKey(name, "sent")),
    failed: get(pushKey(name, "failed")),
    retried: get(pushKey(name, "retried")),
    removed: get(pushKey(name, "removed")),
  });
  return {
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    personal: {
      messages: get(MESSAGES),
      deliveries,
      arrived,
      withdrawn,
      notArrived,
      arrivalRate: ratio(sum(arrived), deliveries - sum(withdrawn) - notArrived.pending),
      backstopShare: ratio(arrived.live + arrived.poll, sum(arrived)),
      latencyMs: { push: latency("push"), live: latency("live"), poll: latency("poll") },
    },
    push: { webpush: channel("webpush"), fcm: channel("fcm"), apns: channel("apns") },
    announcements: { published: get(ANNOUNCEMENTS) },
  };
}
