// GET /v1/inbox/live as Server-Sent Events (Accept: text/event-stream): the
// catch-up event, then personal and announcement events, each with an id; a
// reconnect with Last-Event-ID replays exactly what came after that event.
import { env } from "cloudflare:workers";
import { createExecutionContext, evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { announce, call, clientToken, poll, problemOf, publish, unique } from "./helpers";
import {
  adoptEventStream,
  announcementIds,
  closeAllLive,
  liveEventStreamRequest,
  openEventStream,
  personalSeqs,
  regionFollowers,
  userSocketStates,
  waitFor,
  type EventStream,
  type SseEvent,
} from "./live-helpers";

afterEach(closeAllLive);

const exposed = (res: Response) =>
  (res.headers.get("Access-Control-Expose-Headers") ?? "").split(",").map((h) => h.trim().toLowerCase());

/** The last event of a stream, which must have an id to resume from. */
function lastId(stream: EventStream) {
  const id = stream.events.at(-1)?.id;
  if (!id) throw new Error(`the last event has no id: ${JSON.stringify(stream.events.at(-1))}`);
  return id;
}

const types = (events: SseEvent[]) => events.map((e) => e.event);

/**
 * Resumes from `lastEventId` and waits for the replay up to personal `seq` and
 * announcement `id`; then a marker is published, so once it arrives nothing
 * more can still be on its way from the replay.
 */
async function resumeUntilMarker(user: string, region: string, lastEventId: string, upTo: { seq: number; id: number }, label = "resumed stream") {
  const stream = await openEventStream(user, { region, headers: { "Last-Event-ID": lastEventId } }, label);
  await stream.waitForPersonal(upTo.seq);
  await stream.waitForAnnouncement(upTo.id);
  await publish(user, { body: "marker" });
  await stream.waitForPersonal(upTo.seq + 1);
  return stream;
}

describe("opening an event stream", () => {
  it("Accept: text/event-stream answers 200 text/event-stream with the CORS headers", async () => {
    const res = await liveEventStreamRequest(unique("u"));
    const stream = adoptEventStream(res);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream\b/);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(exposed(res)).toContain("retry-after");
    await stream.close();
  });

  it("is chosen when text/event-stream is one of several accepted types", async () => {
    const stream = await openEventStream(unique("u"), { headers: { Accept: "text/event-stream, */*;q=0.1" } });
    expect((await stream.waitForEvents(1))[0]!.event).toBe("catchup");
  });

  it("with CORS_ORIGINS a list, a listed Origin is echoed on the stream, with Vary: Origin", async () => {
    const token = await clientToken({ sub: unique("u") });
    const request = new Request("http://postbox.test/v1/inbox/live", {
      headers: { Accept: "text/event-stream", Origin: "https://app.example", Authorization: `Bearer ${token}` },
    });
    const res = await worker.fetch(request, { ...env, CORS_ORIGINS: "https://app.example" }, createExecutionContext());
    const stream = adoptEventStream(res);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(res.headers.get("Vary") ?? "").toMatch(/\bOrigin\b/i);
    expect((await stream.waitForEvents(1))[0]!.event).toBe("catchup");
  });

  it("with CORS_ORIGINS a list, an unlisted Origin still gets the stream but no CORS headers", async () => {
    const token = await clientToken({ sub: unique("u") });
    const request = new Request("http://postbox.test/v1/inbox/live", {
      headers: { Accept: "text/event-stream", Origin: "https://evil.example", Authorization: `Bearer ${token}` },
    });
    const res = await worker.fetch(request, { ...env, CORS_ORIGINS: "https://app.example" }, createExecutionContext());
    const stream = adoptEventStream(res);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect((await stream.waitForEvents(1))[0]!.event).toBe("catchup");
  });

  it("?token= is accepted in place of the header (EventSource cannot set one)", async () => {
    const user = unique("u");
    await publish(user);
    const stream = await openEventStream(user, { tokenInQuery: true });
    const [catchup] = await stream.waitForEvents(1);
    expect(catchup!.event).toBe("catchup");
    expect(catchup!.frame).toMatchObject({ type: "catchup", personal: [{ seq: 1 }] });
  });

  it("a wrongly signed token: 401 problem with the CORS header, no stream", async () => {
    const token = await clientToken({ sub: unique("u") }, { secret: "not-the-secret" });
    const res = await call("/v1/inbox/live", { headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect((await problemOf(res)).status).toBe(401);
  });

  it("a bad ?token=: 401 problem", async () => {
    const res = await call("/v1/inbox/live?token=not.a.jwt", { headers: { Accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).status).toBe(401);
  });

  it("no token at all: 401 problem", async () => {
    const res = await call("/v1/inbox/live", { headers: { Accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).status).toBe(401);
  });

  it("?region= other than the token's claim: 403 problem", async () => {
    const res = await liveEventStreamRequest(unique("u"), { region: unique("r"), query: `?region=${unique("r")}` });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).status).toBe(403);
  });
});

describe("events", () => {
  it("the first is event: catchup with an id; its data is the GET /v1/inbox body plus type catchup", async () => {
    const user = unique("u");
    const region = unique("r");
    await publish(user, { body: "before" });
    await announce([region]);
    await announce([region]);
    const stream = await openEventStream(user, { region, query: "?since=1" });
    const [first] = await stream.waitForEvents(1);
    const answer = await poll(user, "?since=1", { region });
    expect(first!.event).toBe("catchup");
    expect(first!.id).toMatch(/\S/);
    expect(first!.frame).toEqual({ type: "catchup", ...answer });
    expect(answer).toMatchObject({ personal: [{ seq: 1, body: "before" }], announcements: [{ id: 2 }], cursor: 2 });
  });

  it("a published personal message follows as event: personal with an id, its data the personal frame", async () => {
    const user = unique("u");
    const stream = await openEventStream(user);
    await stream.waitForEvents(1);
    const published = await publish(user, { title: "Hi", body: "live" });
    const event = await stream.waitForPersonal(published.seq);
    expect(event.event).toBe("personal");
    expect(event.id).toMatch(/\S/);
    expect(event.frame).toEqual({
      type: "personal",
      message: { seq: published.seq, title: "Hi", body: "live", createdAt: published.createdAt },
    });
  });

  it("an announcement follows as event: announcement with an id, its data the announcement frame", async () => {
    const user = unique("u");
    const region = unique("r");
    const stream = await openEventStream(user, { region });
    await stream.waitForEvents(1);
    const { ids, createdAt } = await announce([region], { body: "news", data: { k: 1 } });
    const event = await stream.waitForAnnouncement(ids[region]!);
    expect(event.event).toBe("announcement");
    expect(event.id).toMatch(/\S/);
    expect(event.frame).toEqual({
      type: "announcement",
      message: { id: 1, region, body: "news", data: { k: 1 }, createdAt },
    });
  });

  it("personal and announcement events arrive each in seq / id order, every event with its own id", async () => {
    const user = unique("u");
    const region = unique("r");
    const stream = await openEventStream(user, { region });
    await stream.waitForEvents(1);
    for (let i = 1; i <= 3; i++) {
      await publish(user, { body: `m${i}` });
      await announce([region], { body: `news ${i}` });
    }
    await stream.waitForPersonal(3);
    await stream.waitForAnnouncement(3);
    expect(personalSeqs(stream.frames)).toEqual([1, 2, 3]);
    expect(announcementIds(stream.frames)).toEqual([1, 2, 3]);
    const ids = stream.events.map((e) => e.id);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("resuming with Last-Event-ID", () => {
  it("replays every event after that one, in order and without a catch-up, then goes on live: nothing lost, nothing repeated", async () => {
    const user = unique("u");
    const region = unique("r");
    const first = await openEventStream(user, { region }, "first stream");
    await first.waitForEvents(1);
    await publish(user, { body: "m1" });
    await first.waitForPersonal(1);
    await announce([region], { body: "news 1" });
    await first.waitForAnnouncement(1);
    const resumeFrom = lastId(first);
    await first.close();

    // Published while the client is away.
    await publish(user, { body: "m2" });
    await publish(user, { body: "m3" });
    await announce([region], { body: "news 2" });
    await announce([region], { body: "news 3" });

    const second = await openEventStream(user, { region, headers: { "Last-Event-ID": resumeFrom } }, "resumed stream");
    await second.waitForPersonal(3);
    await second.waitForAnnouncement(3);
    // Live again: the markers come after anything the replay could have sent.
    await publish(user, { body: "m4" });
    await announce([region], { body: "news 4" });
    await second.waitForPersonal(4);
    await second.waitForAnnouncement(4);

    expect(types(second.events)).not.toContain("catchup");
    expect(personalSeqs(second.frames)).toEqual([2, 3, 4]);
    expect(announcementIds(second.frames)).toEqual([2, 3, 4]);
    expect(second.events).toHaveLength(6);
    expect(second.frames.filter((f) => f.type === "personal").map((f) => f.message.body)).toEqual(["m2", "m3", "m4"]);
  });

  it("from the catch-up event's id replays only what came after the catch-up", async () => {
    const user = unique("u");
    const region = unique("r");
    await publish(user, { body: "in the catch-up" });
    await announce([region]);
    const first = await openEventStream(user, { region, query: "?since=0" }, "first stream");
    const [catchup] = await first.waitForEvents(1);
    expect(catchup!.frame).toMatchObject({ personal: [{ seq: 1 }], announcements: [{ id: 1 }] });
    await first.close();

    await publish(user, { body: "after" });
    await announce([region], { body: "after" });

    const second = await resumeUntilMarker(user, region, catchup!.id!, { seq: 2, id: 2 });

    expect(types(second.events)).not.toContain("catchup");
    expect(personalSeqs(second.frames)).toEqual([2, 3]);
    expect(announcementIds(second.frames)).toEqual([2]);
  });

  it("from an event in the middle replays every event that followed it", async () => {
    const user = unique("u");
    const region = unique("r");
    const first = await openEventStream(user, { region }, "first stream");
    await first.waitForEvents(1);
    await publish(user, { body: "m1" });
    const personal1 = await first.waitForPersonal(1);
    await announce([region]);
    await first.waitForAnnouncement(1);
    await publish(user, { body: "m2" });
    await first.waitForPersonal(2);
    await announce([region]);
    await first.waitForAnnouncement(2);
    await first.close();

    // After personal 1 came announcement 1, personal 2 and announcement 2.
    const second = await resumeUntilMarker(user, region, personal1.id!, { seq: 2, id: 2 });

    expect(types(second.events)).not.toContain("catchup");
    expect(personalSeqs(second.frames)).toEqual([2, 3]);
    expect(announcementIds(second.frames)).toEqual([1, 2]);
  });

  it("twice in a row loses and repeats nothing: replayed events carry ids to resume from", async () => {
    const user = unique("u");
    const region = unique("r");
    const first = await openEventStream(user, { region }, "first stream");
    await first.waitForEvents(1);
    const start = lastId(first);
    await first.close();

    await publish(user, { body: "m1" });
    await announce([region]);
    const second = await openEventStream(user, { region, headers: { "Last-Event-ID": start } }, "second stream");
    await second.waitForPersonal(1);
    await second.waitForAnnouncement(1);
    const middle = lastId(second);
    await second.close();

    await publish(user, { body: "m2" });
    await announce([region]);
    const third = await resumeUntilMarker(user, region, middle, { seq: 2, id: 2 }, "third stream");

    expect(types(third.events)).not.toContain("catchup");
    expect(personalSeqs(third.frames)).toEqual([2, 3]);
    expect(announcementIds(third.frames)).toEqual([2]);
  });

  it("that is not an id this server gave is ignored: the stream starts with a catch-up", async () => {
    const user = unique("u");
    await publish(user, { body: "m1" });
    const stream = await openEventStream(user, { headers: { "Last-Event-ID": "not-an-event-id" } });
    const [first] = await stream.waitForEvents(1);
    expect(first!.event).toBe("catchup");
    expect(first!.frame).toMatchObject({ type: "catchup", personal: [{ seq: 1, body: "m1" }] });
  });

  it("without a region replays the personal messages after that event", async () => {
    const user = unique("u");
    const first = await openEventStream(user, {}, "first stream");
    await first.waitForEvents(1);
    await publish(user, { body: "m1" });
    await first.waitForPersonal(1);
    const resumeFrom = lastId(first);
    await first.close();

    await publish(user, { body: "m2" });
    const second = await openEventStream(user, { headers: { "Last-Event-ID": resumeFrom } }, "resumed stream");
    await second.waitForPersonal(2);
    await publish(user, { body: "marker" });
    await second.waitForPersonal(3);

    expect(types(second.events)).toEqual(["personal", "personal"]);
    expect(personalSeqs(second.frames)).toEqual([2, 3]);
  });
});

describe("the user's object behind the stream", () => {
  it("events keep coming after the user's object hibernates", async () => {
    const user = unique("u");
    const region = unique("r");
    const stream = await openEventStream(user, { region });
    await stream.waitForEvents(1);
    await evictDurableObject(env.USERS.getByName(user), { webSockets: "hibernate" });
    await publish(user);
    await announce([region]);
    await stream.waitForPersonal(1);
    await stream.waitForAnnouncement(1);
    expect(stream.events[0]!.event).toBe("catchup");
    expect(stream.events).toHaveLength(3);
    expect(personalSeqs(stream.frames)).toEqual([1]);
    expect(announcementIds(stream.frames)).toEqual([1]);
  });

  // The relay is a WebSocket between the Worker and the user's object; while it
  // stays open, announcements are "sent" into it and move the stored cursor.
  it("after the client cancels the stream, the user's object closes its socket and the region stops listing the user", async () => {
    const user = unique("u");
    const region = unique("r");
    const stream = await openEventStream(user, { region });
    await stream.waitForEvents(1);
    expect(await userSocketStates(user)).toEqual([WebSocket.OPEN]);
    await stream.close();
    await waitFor(
      async () => (await userSocketStates(user)).every((state) => state !== WebSocket.OPEN),
      "the relay socket on the user's object to close after the client cancelled the stream",
      () => "the user's object still holds an open socket",
    );
    await waitFor(async () => !(await regionFollowers(region)).includes(user), "the user to leave the followers table");
  });
});
