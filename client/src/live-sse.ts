// The live connection as Server-Sent Events read from a fetch stream (so the token travels in the
// Authorization header, not the address). One-way: acknowledgements and read receipts go over HTTP.
// Resuming with Last-Event-ID replays what came after that event, with no catch-up frame.
import { errorOf } from "./errors.ts";
import { readEventStream, type StreamEvent } from "./event-stream.ts";
import type { Transport, TransportEvents } from "./transport.ts";
import type { FetchLike, ServerFrame } from "./types.ts";

export function openEventStream(
  fetchImpl: FetchLike,
  url: string,
  headers: Record<string, string>,
  events: TransportEvents,
): Transport {
  const abort = new AbortController();
  let closed = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const close = (error?: Error) => {
    if (closed) return;
    closed = true;
    abort.abort();
    // Not every fetch (a Worker's own, say) ends the body on abort: cancelling it tells the server.
    reader?.cancel().catch(() => {});
    events.onClose(error);
  };

  void (async () => {
    const response = await fetchImpl(url, { headers: { ...headers, Accept: "text/event-stream" }, signal: abort.signal });
    if (!response.ok || !response.body) throw await errorOf(response);
    if (headers["Last-Event-ID"] !== undefined) events.onReady();
    const onEvent = ({ id, data }: StreamEvent) => events.onFrame(JSON.parse(data) as ServerFrame, id);
    reader = response.body.getReader();
    await readEventStream(reader, { onEvent, onChunk: events.onActivity }, () => closed);
  })().then(
    () => close(),
    (error: unknown) => close(closed ? undefined : (error as Error)),
  );

  return { request: () => null, ping() {}, close: () => close() };
}
