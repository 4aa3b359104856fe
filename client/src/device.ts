// The device this client is: named by the app, else by the token's claim, else created once for
// (url, user) and kept in storage, so that a reload is the same device with the same pending set.
import type { PostboxStorage } from "./storage.ts";

function randomDeviceId() {
  const random = (globalThis as { crypto?: { randomUUID?(): string } }).crypto?.randomUUID?.();
  // React Native has no crypto without a polyfill; the id only needs to be unlikely to repeat.
  return `d-${random ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`}`;
}

export async function resolveDevice(storage: PostboxStorage, key: string, named: string | undefined) {
  if (named !== undefined) return named;
  const kept = await storage.get(key);
  if (kept) return kept;
  const created = randomDeviceId();
  await storage.set(key, created);
  return created;
}
