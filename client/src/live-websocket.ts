// The live connection as a WebSocket. Browsers cannot set headers on one, so the token goes in ?token=.
// The server answers each client frame, in order, with an ok or error frame: those resolve the requests
// waiting here instead of going to the handlers.
import type { ClientFrame } from "../../src/shared/frames.ts";
import type { Transport, TransportEvents } from "./transport.ts";
import type { ServerFrame, WebSocketConstructor } from "./types.ts";

const OPEN = 1;

export function openWebSocket(WebSocketImpl: WebSocketConstructor, url: string, events: TransportEvents): Transport {
  const socket = new WebSocketImpl(url);
  const waiting: { resolve(answer: ServerFrame): void; reject(error: Error): void }[] = [];
  let closed = false;
  const close = (error?: Error) => {
    if (closed) return;
    closed = true;
    for (const request of waiting.splice(0)) request.reject(new Error("The live connection closed."));
    events.onClose(error);
  };

  socket.onmessage = ({ data }) => {
    events.onActivity();
    const frame = JSON.parse(String(data)) as ServerFrame;
    if (frame.type === "pong") return;
    if (frame.type === "ok" || frame.type === "error") waiting.shift()?.resolve(frame);
    else events.onFrame(frame);
  };
  socket.onclose = () => close();
  socket.onerror = () => {
    // Node's WebSocket (undici) fires error again from within close() on a socket still connecting.
    if (closed) return;
    close(new Error("The live connection failed."));
    socket.close();
  };

  const send = (frame: ClientFrame) => socket.send(JSON.stringify(frame));
  return {
    request(frame) {
      if (closed || socket.readyState !== OPEN) return null;
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        send(frame);
      });
    },
    ping: () => socket.readyState === OPEN && send({ type: "ping" }),
    close() {
      close();
      socket.close(1000, "closed by the client");
    },
  };
}
