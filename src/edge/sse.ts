// Server-Sent Events for clients that cannot hold a WebSocket. The user's
// object speaks WebSocket to every live client (so it can hibernate); for an
// SSE client the Worker holds the event stream and relays that socket's frames.
import { openSseEnvelope } from "../shared/frames";

const KEEPALIVE_MS = 25_000;

export function relayAsEventStream(socket: WebSocket): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const write = (text: string) => writer.write(encoder.encode(text)).catch(stop);
  // Proxies close streams that stay silent; a comment line keeps this one open.
  const keepalive = setInterval(() => write(": keepalive\n\n"), KEEPALIVE_MS);
  function stop() {
    clearInterval(keepalive);
    socket.close(1000, "event stream closed");
    writer.close().catch(() => {});
  }

  socket.accept();
  socket.addEventListener("message", (event) => {
    const { id, type, data } = openSseEnvelope(event.data as string);
    void write(`id: ${id}\nevent: ${type}\ndata: ${data}\n\n`);
  });
  socket.addEventListener("close", stop);
  socket.addEventListener("error", stop);
  // The client went away: the stream is cancelled, which errors the writer.
  writer.closed.catch(stop);
  return new Response(readable, {
    headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" },
  });
}
