// GET /v1/inbox/live as Server-Sent Events (Accept: text/event-stream): the
// catch-up event, then personal and announcement events, each with an id; a
// reconnect with Last-Event-ID replays exactly what came after that event.
import { afterEach, describe, expect, it } from "vitest";
import { announce, clientToken, evictUser, expectProblem, poll, publish, unique } from "./helpers";
import {
  adoptEventStream,
  announcementIds,
  caughtUpEventStream,
  closeAllLive,
  EventStream,
  fetchLive,
  liveEventStreamRequest,
  openEventStream,
  personalSeqs,
  untilUnfollowed,
  userSocketStates,
  waitFor,
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

/** A new user with a caught-up stream in a new region (the token's claim). */
async function streamInNewRegion(label?: string) {
  const user = unique("u");
  const region = unique("r");
  return { user, region, stream: await caughtUpEventStream(user, { region }, label) };
}

/** A stream that resumes after the event `lastEventId` (the reconnect of an EventSource). */
function openResumed(user: string, region: string | undefined, lastEventId: string, label = "resumed stream") {
  return openEventStream(user, { region, headers: { "Last-Event-ID": lastEventId } }, label);
}

/**
 * Resumes from `lastEventId` and waits for the replay up to personal `seq` and
 * announcement `id`; then a marker is published, so once it arrives nothing
 * more can still be on its way from the replay.
 */
async function resumeUntilMarker(user: string, region: string, lastEventId: string, upTo: { seq: number; id: number }, label = "resumed stream") {
  const stream = await openResumed(user, region, lastEventId, label);
  await stream.waitForPersonal(upTo.seq);
  await stream.waitForAnnouncement(upTo.id);
  await publish(user, { body: "marker" });
  await stream.waitForPersonal(upTo.seq + 1);
  return stream;
}

describe("opening an event stream", () => {
  /** The SSE request from `origin`, to a Worker whose CORS_ORIGINS lists only https://app.example. */
  const streamFrom = (origin: string) =>
    liveEventStreamRequest(unique("u"), { env: { CORS_ORIGINS: "https://app.example" }, headers: { Origin: origin } });

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
    const res = await streamFrom("https://app.example");
    const stream = adoptEventStream(res);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(res.headers.get("Vary") ?? "").toMatch(/\bOrigin\b/i);
    expect((await stream.waitForEvents(1))[0]!.event).toBe("catchup");
  });

  it("with CORS_ORIGINS a list, an unlisted Origin still gets the stream but no CORS headers", async () => {
    const res = await streamFrom("https://evil.example");
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
    const res = await fetchLive({ Accept: "text/event-stream", Authorization: `Bearer ${token}` });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    await expectProblem(res, 401);
  });

  it("a bad ?token=: 401 problem", async () => {
    await expectProblem(await fetchLive({ Accept: "text/event-stream" }, "?token=not.a.jwt"), 401);
  });

  it("no token at all: 401 problem", async () => {
    await expectProblem(await fetchLive({ Accept: "text/event-stream" }), 401);
  });

  it("?region= other than the token's claim: 403 problem", async () => {
    const res = await liveEventStreamRequest(unique("u"), { region: unique("r"), query: `?region=${unique("r")}` });
    await expectProblem(res, 403);
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
    const stream = await caughtUpEventStream(user);
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
    const { region, stream } = await streamInNewRegion();
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
    const { user, region, stream } = await streamInNewRegion();
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
    const { user, region, stream: first } = await streamInNewRegion("first stream");
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

    const second = await openResumed(user, region, resumeFrom);
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
    const { user, region, stream: first } = await streamInNewRegion("first stream");
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
    const { user, region, stream: first } = await streamInNewRegion("first stream");
    const start = lastId(first);
    await first.close();

    await publish(user, { body: "m1" });
    await announce([region]);
    const second = await openResumed(user, region, start, "second stream");
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
    const first = await caughtUpEventStream(user, {}, "first stream");
    await publish(user, { body: "m1" });
    await first.waitForPersonal(1);
    const resumeFrom = lastId(first);
    await first.close();

    await publish(user, { body: "m2" });
    const second = await openResumed(user, undefined, resumeFrom);
    await second.waitForPersonal(2);
    await publish(user, { body: "marker" });
    await second.waitForPersonal(3);

    expect(types(second.events)).toEqual(["personal", "personal"]);
    expect(personalSeqs(second.frames)).toEqual([2, 3]);
  });
});

describe("the user's object behind the stream", () => {
  it("events keep coming after the user's object hibernates", async () => {
    const { user, region, stream } = await streamInNewRegion();
    await evictUser(user, { webSockets: "hibernate" });
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
    const { user, region, stream } = await streamInNewRegion();
    expect(await userSocketStates(user)).toEqual([WebSocket.OPEN]);
    await stream.close();
    await waitFor(
      async () => (await userSocketStates(user)).every((state) => state !== WebSocket.OPEN),
      "the relay socket on the user's object to close after the client cancelled the stream",
      () => "the user's object still holds an open socket",
    );
    await untilUnfollowed(region, user);
  });
});
