// The id of a scheduled publish names the object that holds it, so that
// DELETE /admin/v1/scheduled/{id} reaches that object without an index of its
// own: "u." (a personal message, held by its user's object) or "r." (an
// announcement, held by each of its regions; the id names the first, which
// keeps the list of all of them), the holder's name in base64url, ".", and 16
// random bytes in base64url. base64url keeps the parts apart whatever the
// name holds (userIds may contain "." and ":").
import * as v from "valibot";
import { fromBase64url, toBase64url } from "../push/base64url";
import { regionId, userId } from "./schema";

export type ScheduledHolder = { kind: "user" | "region"; name: string };

const letters = { user: "u", region: "r" } as const;
const ID = /^([ur])\.([A-Za-z0-9_-]{2,172})\.([A-Za-z0-9_-]{22})$/;

export function newScheduledId({ kind, name }: ScheduledHolder): string {
  const random = crypto.getRandomValues(new Uint8Array(16));
  return `${letters[kind]}.${toBase64url(new TextEncoder().encode(name))}.${toBase64url(random)}`;
}

/** The object holding the scheduled publish `id`, or null when `id` is not one a scheduled publish could answer. */
export function holderOf(id: string): ScheduledHolder | null {
  const match = ID.exec(id);
  const bytes = match && fromBase64url(match[2]!);
  if (!bytes) return null;
  const name = String.fromCharCode(...bytes);
  const kind = match![1] === "u" ? "user" : "region";
  return v.is(kind === "user" ? userId : regionId, name) ? { kind, name } : null;
}

export const scheduledIdParam = v.pipe(
  v.string(),
  v.check((id) => holderOf(id) !== null, "must be an id a scheduled publish answered"),
  v.description("The id a scheduled publish answered (`scheduled`)."),
);
