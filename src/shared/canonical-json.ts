// Idempotency-Key compares bodies "as a JSON value": what is compared is the message content as it will
// be stored, in one spelling. Scalars are written by JSON.stringify, as storage writes them, and objects
// with their keys sorted, so two contents have the same text exactly when their stored texts hold the
// same JSON value. (Numbers that storage would change, such as 1e400 stored as null, never get here:
// parseExactJson refuses them, and it bounds the nesting the recursion below walks.)
import type { MessageContent } from "./schema";

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256, in hex, of the value's canonical JSON. */
async function canonicalHash(value: unknown) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(value)));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A scheduled publish's body holds its deliverAt too (as the text it was sent as): another instant is another body. */
const withDeliverAt = (value: object, deliverAt: string | undefined) => (deliverAt === undefined ? value : { ...value, deliverAt });

/** The hash a personal message's Idempotency-Key compares: its content, and its deliverAt when it has one. */
export const contentHash = (content: MessageContent, deliverAt?: string) => canonicalHash(withDeliverAt(content, deliverAt));

/**
 * The hash an announcement's Idempotency-Key compares: its content and the
 * regions it goes to, as a set (the order and repeats of `regions` change
 * nothing that is published, so they change nothing here either).
 */
export const announcementHash = (regions: readonly string[], content: MessageContent, deliverAt?: string) =>
  canonicalHash(withDeliverAt({ ...content, regions: [...new Set(regions)].sort() }, deliverAt));
