// Which announcements a reader gets, given where its cursor stands. Kept free of
// storage so that the rules (reset, gap, cursor) have exactly one definition.
export interface RegionHead {
  epoch: string;
  /** Newest id ever assigned, 0 before the first announcement. */
  head: number;
  /** Oldest id still retained, null when none is. */
  oldest: number | null;
}

/** Where a reader resumes: a cursor in some epoch, or null for "from the head on" (a new user). */
export type ReadFrom = { since: number; epoch?: string } | null;

/** A retained announcement: its id, and its JSON text as sent to clients. */
export type StoredAnnouncement = { id: number; message: string };

export interface AnnouncementWindow {
  epoch: string;
  /** Oldest first. */
  announcements: StoredAnnouncement[];
  /** Highest id returned, or the head when none is: never past an id the reader was not given. */
  cursor: number;
  more: boolean;
  gap: boolean;
  reset: boolean;
}

/** The id after which to read; a cursor from another epoch, or beyond the head, restarts at 0. */
export function startAfter(region: RegionHead, from: ReadFrom): { after: number; reset: boolean } {
  if (from === null) return { after: region.head, reset: false };
  const reset = (from.epoch !== undefined && from.epoch !== region.epoch) || from.since > region.head;
  return { after: reset ? 0 : from.since, reset };
}

/** Builds the window from the rows with id > after, fetched with one row more than `limit`. */
export function windowAfter(
  region: RegionHead,
  start: { after: number; reset: boolean },
  rows: StoredAnnouncement[],
  limit: number,
): AnnouncementWindow {
  const page = rows.slice(0, limit);
  const firstKept = region.oldest ?? region.head + 1;
  return {
    epoch: region.epoch,
    announcements: page,
    cursor: page.at(-1)?.id ?? region.head,
    more: rows.length > limit,
    gap: region.head > start.after && firstKept > start.after + 1,
    reset: start.reset,
  };
}
