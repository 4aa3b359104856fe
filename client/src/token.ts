// The claims of a client token (an HS256 JWT the app's backend signs): who the state belongs to.
// Decoded without atob or TextDecoder, which not every React Native engine has.
import { base64UrlBytes } from "./base64url.ts";
import type { TokenSource } from "./types.ts";

export type TokenClaims = { sub: string; device?: string; region?: string };

/** The token's claims; throws for something that is not a JWT with a `sub`. */
export function tokenClaims(token: string): TokenClaims {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error("The token is not a JWT.");
  const utf8 = [...base64UrlBytes(payload)].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  const claims = JSON.parse(decodeURIComponent(utf8)) as Partial<TokenClaims>;
  if (typeof claims.sub !== "string") throw new Error("The token has no `sub` claim.");
  return claims as TokenClaims;
}

export const tokenOf = async (source: TokenSource) => (typeof source === "string" ? source : await source());
