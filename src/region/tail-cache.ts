// The newest announcements of each region, kept in this isolate's memory and
// shared by every user object that runs in it. A poll whose cursor falls
// inside a fresh copy is answered from it, so the region's object sees at most
// one read per REGION_CACHE_MS per isolate, however many users poll.
//
// Guarantees, whatever the copy's age: a window from the copy holds every id
// after the cursor up to the copy's head (nothing skipped), its cursor never
// passes what it returned, and anything the copy cannot answer exactly — a
// cursor newer than the copy, another epoch (a reset), a cursor older than
// the copy reaches — goes to the region. A copy is used for REGION_CACHE_MS at
// most; the region object in this isolate also writes its publishes through.
//
// A retract is written through too: the copy here drops the announcement, and
// a copy asked for before the retract and arriving after it is not kept, so in
// the region object's isolate no poll that starts after a retract returns it.
// A copy in another isolate may, until it is REGION_CACHE_MS old; it was asked
// for before the retract, so no poll starting REGION_CACHE_MS after it does.
import {
  startAfter,
  windowAfter,
  type AnnouncementWindow,
  type ReadFrom,
  type RegionHead,
  type StoredAnnouncement,
} from "./window";

/** How many of the newest announcements a copy holds: how far behind a cursor may be and still be served. */
export const TAIL_SIZE = 64;
/** Copies evicted, least recently stored first, beyond this many bytes of messages. */
const MAX_BYTES = 8 * 1024 * 1024;

export interface RegionTail extends RegionHead {
  /** The newest retained announcements, oldest first. */
  rows: StoredAnnouncement[];
}

type Entry = { tail: RegionTail; fetchedAt: number; bytes: number };
const entries = new Map<string, Entry>();
const refreshing = new Map<string, Promise<unknown>>();
let totalBytes = 0;
/** Retracts made by region objects in this isolate: a copy asked for before one of them may hold what it retracted. */
let retracts = 0;

/** The window for `from`, answered from the copy, or null when only the region can answer it exactly. */
export function windowFromTail(tail: RegionTail, from: ReadFrom, limit: number): AnnouncementWindow | null {
  if (from !== null) {
    if (from.epoch !== undefined && from.epoch !== tail.epoch) return null;
    if (from.since > tail.head) return null;
    const holdsAllRetained = tail.oldest === null || tail.rows[0]?.id === tail.oldest;
    const firstHeld = tail.rows[0]?.id ?? tail.head + 1;
    if (!holdsAllRetained && from.since + 1 < firstHeld) return null;
  }
  const start = startAfter(tail, from);
  const rows = tail.rows.filter((row) => row.id > start.after).slice(0, limit + 1);
  return windowAfter(tail, start, rows, limit);
}

/**
 * Answers from a fresh copy when it can; otherwise asks the region once
 * (`read`, which also returns a new copy). Concurrent misses for one region
 * wait for the call already under way before making their own.
 */
export async function readThroughTail(
  region: string,
  from: ReadFrom,
  limit: number,
  freshForMs: number,
  read: () => Promise<{ window: AnnouncementWindow; tail: RegionTail }>,
): Promise<AnnouncementWindow> {
  const cached = freshTail(region, freshForMs);
  const served = cached && windowFromTail(cached, from, limit);
  if (served) return served;
  const underway = refreshing.get(region);
  if (underway) {
    await underway.catch(() => {});
    const refreshed = freshTail(region, freshForMs);
    const servedAfterWait = refreshed && windowFromTail(refreshed, from, limit);
    if (servedAfterWait) return servedAfterWait;
  }
  const askedAt = Date.now();
  const retractsBefore = retracts;
  const call = read();
  const stored = call.then(({ tail }) => {
    if (retracts === retractsBefore) rememberTail(region, tail, askedAt);
  });
  refreshing.set(region, stored);
  try {
    return (await call).window;
  } finally {
    if (refreshing.get(region) === stored) refreshing.delete(region);
  }
}

function freshTail(region: string, freshForMs: number) {
  const entry = entries.get(region);
  return entry && Date.now() - entry.fetchedAt <= freshForMs ? entry.tail : undefined;
}

/** Keeps a copy, unless the one already held is newer. `fetchedAt` is when it was asked for. */
export function rememberTail(region: string, tail: RegionTail, fetchedAt = Date.now()) {
  const held = entries.get(region);
  if (held && held.tail.epoch === tail.epoch && held.tail.head > tail.head) return;
  forgetTail(region);
  const bytes = tail.rows.reduce((sum, row) => sum + row.message.length, 0);
  entries.set(region, { tail, fetchedAt, bytes });
  totalBytes += bytes;
  for (const [name, entry] of entries) {
    if (totalBytes <= MAX_BYTES) break;
    entries.delete(name);
    totalBytes -= entry.bytes;
  }
}

/**
 * A publish by the region's object in this isolate: the copy here, if it was
 * current, stays current (and fresh); otherwise it is dropped.
 */
export function recordPublish(region: string, head: RegionHead, announcement: StoredAnnouncement) {
  const held = entries.get(region)?.tail;
  if (!held || held.epoch !== head.epoch || held.head !== announcement.id - 1) return forgetTail(region);
  const rows = [...held.rows, announcement].filter((row) => head.oldest !== null && row.id >= head.oldest);
  rememberTail(region, { ...head, rows: rows.slice(-TAIL_SIZE) });
}

/** A retract by the region's object in this isolate: the copy here, if any, no longer holds the announcement. */
export function recordRetract(region: string, id: number) {
  retracts++;
  const held = entries.get(region);
  if (held) rememberTail(region, { ...held.tail, rows: held.tail.rows.filter((row) => row.id !== id) }, held.fetchedAt);
}

export function forgetTail(region: string) {
  const held = entries.get(region);
  if (!held) return;
  entries.delete(region);
  totalBytes -= held.bytes;
}
