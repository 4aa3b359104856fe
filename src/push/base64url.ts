// base64url (RFC 4648 §5), as JWTs and Web Push keys spell bytes. Written on btoa/atob: the
// Uint8Array base64 methods workerd has are not in the TypeScript lib this project targets.

/** Bytes as base64url without padding. */
export function toBase64url(bytes: Uint8Array | ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url text, padded or not, as bytes; null when it is anything else (standard base64's + and / included). */
export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}
