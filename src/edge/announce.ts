// POST /admin/v1/announcements: one publish per region, in parallel, all sharing
// one createdAt. With an Idempotency-Key it takes two rounds. First every region
// says what it answered under the key, so that a different body is refused
// before anything is published, and a retry after some regions failed learns
// the first createdAt; then each region that holds no such key publishes,
// storing the key with its id (a request with the same key racing this one is
// answered by the region's key instead of publishing twice).
import type { Env } from "../config";
import type { Announced } from "../region/idempotency";
import type { AnnounceAnswer } from "../shared/responses";
import type { MessageContent } from "../shared/schema";
import { regionStub } from "../shared/objects";
import type { IdempotencyKey } from "../user/idempotency";

/** The ids of every region, or "conflict" when the key was used with another body. */
export async function announce(
  env: Env,
  regions: readonly string[],
  content: MessageContent,
  idempotency?: IdempotencyKey,
): Promise<AnnounceAnswer | "conflict"> {
  if (!idempotency) {
    const createdAt = new Date().toISOString();
    const ids = await everyRegion(regions, (region) => regionStub(env, region).publish(region, content, createdAt));
    return { ids: Object.fromEntries(regions.map((region, i) => [region, ids[i]!])), createdAt };
  }
  const recalled = await everyRegion<Announced | "conflict" | undefined>(regions, (region) =>
    regionStub(env, region).recall(idempotency),
  );
  if (recalled.includes("conflict")) return "conflict";
  const earlier = recalled as (Announced | undefined)[];
  const createdAt = earlier.find((answer) => answer !== undefined)?.createdAt ?? new Date().toISOString();
  const answers = await everyRegion<Announced | "conflict">(regions, (region, i) =>
    earlier[i] ?? regionStub(env, region).publishOnce(region, content, createdAt, idempotency),
  );
  if (answers.includes("conflict")) return "conflict";
  const announced = answers as Announced[];
  return {
    ids: Object.fromEntries(regions.map((region, i) => [region, announced[i]!.id])),
    createdAt: announced[0]!.createdAt,
  };
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
