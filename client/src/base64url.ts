// base64url (padding and the standard alphabet's + and / tolerated) without atob, which not every
// React Native engine has.
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let bits = 0;
  let buffer = 0;
  for (const char of text.replace(/=+$/, "")) {
    const value = ALPHABET.indexOf(char === "+" ? "-" : char === "/" ? "_" : char);
    if (value < 0) throw new Error("Not base64url text.");
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
}
