// The stand-in push services on one real socket, for tests that let postbox send through the global
// fetch (and for trying postbox by hand): Web Push (webpush.mjs), FCM and its token endpoint (fcm.mjs),
// APNs over HTTP/1.1 (apns.mjs). Each checks what the real service checks, then answers as a fault the
// test programmed says (targets.mjs), or accepts. Tests drive it over HTTP (test/push-service.ts):
//   POST /control/webpush/subscriptions {applicationServerKey}  → a PushSubscription.toJSON()
//   POST /control/fcm/tokens, POST /control/apns/tokens          → { token }
//   PUT  /control/faults {target, faults: [Fault, …]}            → 204
//   GET  /control/log?target=…                                   → { received: […], refused: […] }
// The bench (bench/push-stand-in.mjs) also watches it in-process: `observe` hears of each push that
// passed its service's checks (received), of each answer as it is sent (answered), and of each refusal.
import { createServer } from "node:http";
import { ApnsService } from "./apns.mjs";
import { FcmService } from "./fcm.mjs";
import { jsonAnswer, Refusal, Targets } from "./targets.mjs";
import { WebPushService } from "./webpush.mjs";

/**
 * Starts the services on 127.0.0.1:`port` (0: any free port); answers their origin, the credentials they
 * issued, and close(). `observe.received(target, entry)`, `observe.answered(target, entry)` and
 * `observe.refused(target, refusal)`, when given, are called as a push passes its service's checks, as its
 * answer is sent, and as a request is refused.
 */
export async function startPushServices({ port = 0, observe = {} } = {}) {
  const targets = new Targets();
  let services;
  const server = createServer((request, response) => {
    serve(request, response, services, targets, observe).catch((error) => {
      console.error("push stand-in:", error);
      if (!response.headersSent) send(response, jsonAnswer(500, { error: String(error) }));
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  services = { webpush: new WebPushService(origin), fcm: await FcmService.create(origin), apns: await ApnsService.create() };
  return {
    origin,
    credentials: { fcmServiceAccount: JSON.stringify(services.fcm.account), apns: services.apns.provider },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

async function serve(request, response, services, targets, observe) {
  const url = new URL(request.url, "http://stand-in");
  const body = await readBody(request);
  if (url.pathname.startsWith("/control/")) return send(response, control(request.method, url, body, services, targets));
  const service = Object.values(services).find((candidate) => candidate.matches(url.pathname));
  if (!service) return send(response, jsonAnswer(404, { error: `no stand-in at ${url.pathname}` }));

  const at = Date.now();
  let checked;
  try {
    checked = await service.check({ method: request.method, path: url.pathname, headers: request.headers, body });
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const refusal = { service: service.name, at, status: error.answer.status, reason: error.message };
    targets.refused(error.target, refusal);
    observe.refused?.(error.target, refusal);
    return send(response, error.answer);
  }
  const entry = { service: service.name, at, headers: request.headers, ...checked.record, status: null, delivered: false };
  targets.received(checked.target, entry);
  observe.received?.(checked.target, entry);
  const fault = targets.nextFault(checked.target) ?? {};
  // A hang is answered never: the sender's timeout closes the request.
  if (fault.hang) return;
  if (fault.delayMs && !(await answeredLater(fault.delayMs, response))) return;
  const answer = fault.status ? service.error(fault.status, fault) : checked.accepted;
  Object.assign(entry, { status: answer.status, answeredAt: Date.now(), delivered: !fault.status && !fault.lose });
  send(response, answer);
  observe.answered?.(checked.target, entry);
}

function control(method, url, body, services, targets) {
  const json = body.length > 0 ? JSON.parse(body.toString()) : {};
  const route = `${method} ${url.pathname}`;
  if (route === "POST /control/webpush/subscriptions") return jsonAnswer(201, services.webpush.subscribe(json.applicationServerKey));
  if (route === "POST /control/fcm/tokens") return jsonAnswer(201, { token: services.fcm.issueToken() });
  if (route === "POST /control/apns/tokens") return jsonAnswer(201, { token: services.apns.issueToken() });
  if (route === "PUT /control/faults") {
    targets.program(json.target, json.faults);
    return { status: 204 };
  }
  if (route === "GET /control/log") return jsonAnswer(200, targets.log(url.searchParams.get("target") ?? ""));
  return jsonAnswer(404, { error: `no control route ${route}` });
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Waits `ms`; false when the sender gave up meanwhile (then there is no one to answer). */
function answeredLater(ms, response) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    response.on("close", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function send(response, { status, headers = {}, body }) {
  response.writeHead(status, headers);
  response.end(body);
}
