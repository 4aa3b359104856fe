// What the stand-in push services share: for each target (a Web Push endpoint, an FCM or an APNs device
// token), the faults a test programmed for its next requests and everything it received; the requests
// a service refused, and why; and how a service answers.

/**
 * A fault, applied to the target's next `times` requests (default 1) that pass the service's checks:
 * - `{ lose: true }`: answered as accepted, never delivered (a push the channel silently lost);
 * - `{ status, retryAfter? }`: answered with that status, in the service's own error shape;
 * - `{ delayMs }`: answered normally, that much later;
 * - `{ hang: true }`: never answered, until the sender gives up and closes the request.
 * @typedef {{ lose?: true, status?: number, retryAfter?: string, delayMs?: number, hang?: true, times?: number }} Fault
 */

/** An answer: its status, headers and body text. @typedef {{ status: number, headers?: Record<string, string>, body?: string }} Answer */

export class Targets {
  /** @type {Map<string, Fault[]>} the faults still to apply, each once per request, in order */
  #faults = new Map();
  /** @type {Map<string, object[]>} */
  #received = new Map();
  /** @type {Map<string, object[]>} */
  #refused = new Map();

  /** Replaces the target's programmed faults. @param {string} target @param {Fault[]} faults */
  program(target, faults) {
    this.#faults.set(target, faults.flatMap(({ times = 1, ...fault }) => Array(times).fill(fault)));
  }

  /** The fault for the target's next request, if one is left. @param {string} target */
  nextFault(target) {
    return this.#faults.get(target)?.shift();
  }

  /** @param {string} target @param {object} entry */
  received(target, entry) {
    this.#listOf(this.#received, target).push(entry);
  }

  /** @param {string} target @param {object} entry */
  refused(target, entry) {
    this.#listOf(this.#refused, target).push(entry);
  }

  /** @param {string} target */
  log(target) {
    return { received: this.#received.get(target) ?? [], refused: this.#refused.get(target) ?? [] };
  }

  #listOf(map, target) {
    if (!map.has(target)) map.set(target, []);
    return map.get(target);
  }
}

/** A request a service refuses: the answer it gives, and the reason kept for the tests. */
export class Refusal extends Error {
  /** @param {string} target @param {Answer} answer @param {string} reason */
  constructor(target, answer, reason) {
    super(reason);
    this.target = target;
    this.answer = answer;
  }
}

/** A JSON answer. @returns {Answer} */
export const jsonAnswer = (status, value, headers = {}) => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
  body: JSON.stringify(value),
});

/** Real services tolerate some clock skew; the tests also run postbox's clock a little ahead (test/helpers.ts aheadOfNow). */
export const CLOCK_SKEW_SECONDS = 300;

export const nowSeconds = () => Math.floor(Date.now() / 1000);
