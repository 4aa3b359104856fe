// Reads a text/event-stream incrementally and parses it as the HTML standard does: lines end at CRLF,
// LF or CR; a blank line dispatches the event; ":" lines are comments; "field: value" (one space after
// the colon dropped); data lines join with "\n"; the last event id carries over to later events.
export type StreamEvent = { id: string | undefined; event: string; data: string };

export interface EventStreamHandlers {
  onEvent(event: StreamEvent): void;
  /** Any bytes arrived (a keepalive comment included). */
  onChunk?(): void;
  onComment?(text: string): void;
}

/** Reads until the stream ends (or `stopped()` says to stop); rejects when reading fails. */
export async function readEventStream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  handlers: EventStreamHandlers,
  stopped: () => boolean = () => false,
) {
  const decoder = new TextDecoder();
  let buffer = "";
  let id: string | undefined;
  let event: string | undefined;
  let data: string[] = [];
  while (!stopped()) {
    const { value, done } = await reader.read();
    if (done) return;
    handlers.onChunk?.();
    buffer += decoder.decode(value, { stream: true });
    for (;;) {
      const end = buffer.search(/\r\n|\n|\r/);
      // A lone CR at the end of the buffer may be the first half of a CRLF.
      if (end < 0 || (buffer[end] === "\r" && end === buffer.length - 1)) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
      if (line === "") {
        if (data.length > 0) handlers.onEvent({ id, event: event ?? "message", data: data.join("\n") });
        data = [];
        event = undefined;
        continue;
      }
      if (line.startsWith(":")) {
        handlers.onComment?.(line.slice(1));
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    }
  }
}
