// The bearer tokens postbox shows push services (FCM's OAuth access token, APNs' provider token) are
// minted rarely and reused by every push of the isolate: minting costs a signature (and for FCM a round
// trip), and APNs refuses a provider that renews its token more than once per 20 minutes.

/** A minted token and when it is to be replaced (epoch ms). */
export type Minted = { token: string; renewAt: number };

export class TokenCache {
  /** A token in use, or the minting that every caller waits for meanwhile (so concurrent pushes mint once). */
  private readonly tokens = new Map<string, Minted | Promise<Minted>>();

  /** The token for `key`: the cached one until its renewAt, else one from `mint` (a failed minting is not kept). */
  async get(key: string, mint: () => Promise<Minted>): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached instanceof Promise) return (await cached).token;
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const minting = mint();
    this.tokens.set(key, minting);
    try {
      const minted = await minting;
      if (this.tokens.get(key) === minting) this.tokens.set(key, minted);
      return minted.token;
    } catch (error) {
      if (this.tokens.get(key) === minting) this.tokens.delete(key);
      throw error;
    }
  }

  /**
   * Forgets `token` after the service refused it, so the next push mints another; a token minted since
   * (by a push refused at the same moment) is kept.
   */
  drop(key: string, token: string) {
    const cached = this.tokens.get(key);
    if (cached && !(cached instanceof Promise) && cached.token === token) this.tokens.delete(key);
  }
}
