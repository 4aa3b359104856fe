// This user's calls to its regions' objects. A poll reads through this
// isolate's copy of a region's newest announcements (region/tail-cache.ts); a
// live connection reads the region itself, which makes the user a follower
// there, and so do the gap reads of live delivery.
import { config, type Env } from "../config";
import { readThroughTail } from "../region/tail-cache";
import type { AnnouncementWindow, ReadFrom } from "../region/window";
import { regionStub } from "../shared/objects";

export class Regions {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: () => Env,
  ) {}

  private get userId() {
    return this.ctx.id.name!;
  }

  /** A poll's announcements after `from`: from this isolate's copy when it can answer, else from the region. */
  read(region: string, from: ReadFrom, limit: number): Promise<AnnouncementWindow> {
    const regionLog = regionStub(this.env(), region);
    return readThroughTail(region, from, limit, config(this.env()).REGION_CACHE_MS, () =>
      regionLog.readWithTail(from, limit),
    );
  }

  /** A connection's announcements after `from`, from the region itself, which makes the user a follower in the same step. */
  readAndFollow(region: string, from: ReadFrom, limit: number): Promise<AnnouncementWindow> {
    return regionStub(this.env(), region).read(from, limit, this.userId);
  }

  /** A gap in live delivery, read from the region itself: this isolate's copy may well be older than the push. */
  readGap(region: string, from: ReadFrom) {
    return regionStub(this.env(), region).read(from, config(this.env()).ANNOUNCEMENT_LIMIT);
  }

  /** When the last socket following a region closes, the region stops pushing to this user. */
  async unfollowUnlessListening(region: string, listening: () => boolean) {
    if (listening()) return;
    const regionLog = regionStub(this.env(), region);
    await regionLog.unfollow(this.userId);
    // A socket may have connected (or begun to) while unfollowing; it must keep its announcements.
    if (listening()) await regionLog.follow(this.userId);
  }
}
