// POST /admin/v1/announcements: one publish per region, in parallel, all sharing
// one createdAt. With an Idempotency-Key it takes two rounds. First every region
// says what it answered under the key, so that a different body is refused
// before anything is published, and a retry after some regions failed learns
// the first createdAt; then each region that holds no such key publishes,
// storing the key with its id (a request with the same key racing this one is
// answered by the region's key instead of publishing twice).
//
// A deliverAt ahead holds it instead: every region keeps its own copy under one
// id, which names the first region (src/shared/scheduled-id.ts), and delivers it
// at deliverAt by its own alarm. The two rounds are the same, and a retry after
// some regions failed holds it in the others under the first id.
import type { Env } from "../config";
import type { Announced, RegionAnswer } from "../region/idempotency";
import type { AnnounceAnswer, ScheduledAnswer } from "../shared/responses";
import type { MessageContent } from "../shared/schema";
import { regionStub } from "../shared/objects";
import { newScheduledId } from "../shared/scheduled-id";
import type { IdempotencyKey } from "../user/idempotency";

type Earlier = (RegionAnswer | undefined)[];

/**
 * The ids of every region, or, with a `deliverAt` (ms) ahead, the scheduled publish's answer; a
 * repeated key answers as it answered first. "conflict" when the key was used with another body.
 */
export async function announce(
  env: Env,
  regions: readonly string[],
  content: MessageContent,
  idempotency?: IdempotencyKey,
  deliverAt?: number,
): Promise<AnnounceAnswer | ScheduledAnswer | "conflict"> {
  const recalled = idempotency
    ? await everyRegion<RegionAnswer | "conflict" | undefined>(regions, (region) => regionStub(env, region).recall(idempotency))
    : regions.map(() => undefined);
  if (recalled.includes("conflict")) return "conflict";
  const earlier = recalled as Earlier;
  const first = earlier.find((answer) => answer !== undefined);
  if (first ? "scheduled" in first : deliverAt !== undefined && deliverAt > Date.now()) {
    const held = (first as ScheduledAnswer | undefined) ?? newScheduled(regions, deliverAt!);
    const answers = await everyRegion<RegionAnswer | "conflict">(regions, (region, i) =>
      earlier[i] ?? regionStub(env, region).schedule(held.scheduled, Date.parse(held.deliverAt), content, regions, idempotency),
    );
    return answers.includes("conflict") ? "conflict" : held;
  }
  return publishNow(env, regions, content, earlier, (first as Announced | undefined)?.createdAt ?? new Date().toISOString(), idempotency);
}

/** Publishes in each region that has not under the key (every region without one), all with `createdAt`. */
async function publishNow(
  env: Env,
  regions: readonly string[],
  content: MessageContent,
  earlier: Earlier,
  createdAt: string,
  idempotency?: IdempotencyKey,
): Promise<AnnounceAnswer | "conflict"> {
  const answers = await everyRegion<RegionAnswer | number | "conflict">(regions, (region, i) =>
    earlier[i] ??
    (idempotency
      ? regionStub(env, region).publishOnce(region, content, createdAt, idempotency)
      : regionStub(env, region).publish(region, content, createdAt)),
  );
  if (answers.includes("conflict")) return "conflict";
  const announced = answers.map((answer) => (typeof answer === "number" ? { id: answer, createdAt } : (answer as Announced)));
  // Under a key, a request racing this one may have published first: its createdAt is the one answered.
  return { ids: Object.fromEntries(regions.map((region, i) => [region, announced[i]!.id])), createdAt: announced[0]!.createdAt };
}

/** A new scheduled publish's answer: its id names the first region. */
function newScheduled(regions: readonly string[], deliverAt: number): ScheduledAnswer {
  return { scheduled: newScheduledId({ kind: "region", name: regions[0]! }), deliverAt: new Date(deliverAt).toISOString() };
}

/**
 * DELETE /admin/v1/scheduled/{id} of an announcement held by `home` (the region its id names) and
 * the regions home lists: the others first, home last, so that after a failure (500) a retry still
 * finds the list. Whether any region's copy was cancelled now.
 */
export async function cancelAnnouncement(env: Env, home: string, id: string): Promise<boolean> {
  const regions = await regionStub(env, home).scheduledRegions(id);
  if (regions === null) return false;
  const others = await everyRegion(
    regions.filter((region) => region !== home),
    (region) => regionStub(env, region).cancelScheduled(id),
  );
  const atHome = await regionStub(env, home).cancelScheduled(id);
  return atHome || others.includes(true);
}

/**
 * Calls every region and waits for all of them, also when one fails, so that
 * a failure is answered only once the other regions have published (and a
 * retry finds their keys); then throws the first failure.
 */
async function everyRegion<T>(regions: readonly string[], call: (region: string, i: number) => T | Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(regions.map(async (region, i) => call(region, i)));
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
