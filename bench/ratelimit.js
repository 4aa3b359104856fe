// The bench's stand-in for Cloudflare's rate-limit service behind a
// [[ratelimits]] binding (workerd alone has none): the same call shape, a
// fixed window per key aligned to the clock, counted in memory. The bench
// sets a limit no scenario reaches, so every request pays the call and none
// is refused.
export default function makeRateLimiter({ limit, period }) {
  const windows = new Map();
  return {
    async limit({ key, limit: perCall = limit }) {
      const window = Math.floor(Date.now() / (period * 1000));
      const entry = windows.get(key);
      const count = entry?.window === window ? entry.count : 0;
      if (count >= perCall) return { success: false };
      windows.set(key, { window, count: count + 1 });
      return { success: true };
    },
  };
}
