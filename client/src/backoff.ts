// Full jitter: the wait before reconnect attempt n is random in [0, min(max, initial × 2^n)), so
// clients cut off together do not come back together.
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random) {
  return random() * Math.min(maxMs, initialMs * 2 ** attempt);
}
