// A request body as text: never read past MESSAGE_MAX_BYTES, and a body that fails to arrive is the
// client's problem (400), not a failure of postbox.
import { concatBytes } from "../shared/bytes";
import { problem } from "./problem";

const tooLarge = (maxBytes: number, limit: string) => problem(413, `The request body is larger than ${limit} (${maxBytes} bytes).`);

/** Throws the 413 or 400 problem when the body is too large (more than `maxBytes`, the limit named `limit`), cannot be read, or is not UTF-8. */
export async function readBodyText(request: Request, maxBytes: number, limit = "MESSAGE_MAX_BYTES"): Promise<string> {
  // A declared length decides before anything is read; with Transfer-Encoding it does not count (RFC 9112).
  const declared = request.headers.get("Content-Length");
  if (declared !== null && !request.headers.has("Transfer-Encoding") && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes, limit);
  }
  const chunks = request.body ? await readChunks(request.body, maxBytes) : [];
  if (chunks === "too large") throw tooLarge(maxBytes, limit);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(concatBytes(chunks));
  } catch {
    throw problem(400, "The request body is not valid UTF-8.");
  }
}

/** The body's chunks, or "too large" as soon as they add up to more than `maxBytes` (the rest is never read). */
async function readChunks(body: ReadableStream<Uint8Array>, maxBytes: number) {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        return "too large";
      }
      chunks.push(chunk.value);
    }
  } catch {
    // Broken chunked framing, a connection closed mid-body: nothing of it is used.
    throw problem(400, "The request body could not be read.");
  }
  return chunks;
}
