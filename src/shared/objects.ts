// The stub of a user's or a region's object. Deriving an id from a name hashes
// it, and on the poll path that hash was a measurable share of the Worker's
// own work; the ids (plain values, unlike stubs, which belong to one request)
// are kept per namespace for the names seen most recently.
import type { Env } from "../config";
import { BoundedMap } from "./bounded-map";

const MAX_IDS = 10_000;
const idsByNamespace = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

function stubFor<T extends Rpc.DurableObjectBranded | undefined>(namespace: DurableObjectNamespace<T>, name: string) {
  let ids = idsByNamespace.get(namespace);
  if (!ids) idsByNamespace.set(namespace, (ids = new BoundedMap(MAX_IDS)));
  let id = ids.get(name);
  if (!id) {
    id = namespace.idFromName(name);
    ids.set(name, id);
  }
  return namespace.get(id);
}

export const inboxStub = (env: Pick<Env, "USERS">, userId: string) => stubFor(env.USERS, userId);
export const regionStub = (env: Pick<Env, "REGIONS">, regionId: string) => stubFor(env.REGIONS, regionId);
/** Stats shard number `shard` (src/stats/shards.ts). */
export const statsStub = (env: Pick<Env, "STATS">, shard: number) => stubFor(env.STATS, `shard-${shard}`);
