// Waiting for something the browser or the server does on its own time: polled, never a fixed sleep.

/**
 * Resolves with `check()`'s first truthy answer (30 s by default: a first push on a loaded machine
 * starts an isolate, signs and encrypts, and starts the worker, which took over 15 s in one run); throws after `timeoutMs` naming `what` and, when
 * given, what `seen()` shows then.
 */
export async function waitFor(check, what, { timeoutMs = 30_000, intervalMs = 50, seen } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer) return answer;
    if (Date.now() > deadline) {
      const shown = seen ? `; seen: ${typeof seen() === "string" ? seen() : JSON.stringify(seen())}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${shown}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
