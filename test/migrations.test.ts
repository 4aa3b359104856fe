// Each object's storage carries its schema version and is brought up to date
// when the object starts (src/shared/migrations.ts): fresh objects, objects
// built before versioning, steps applied once and whole, and a rollback refused.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { regionSchema } from "../src/region/schema";
import { migrate, type MigrationStep, type Schema } from "../src/shared/migrations";
import type { PersonalMessage } from "../src/shared/schema";
import { MeteredSql } from "../src/shared/sql";
import { userSchema } from "../src/user/schema";
import {
  admin,
  announce,
  DAY,
  evictRegion,
  evictUser,
  messagesPath,
  poll,
  publish,
  regionLog,
  regionStub,
  SECOND,
  unique,
  unreadSeqs,
  userStub,
  userView,
  wipeStorage,
} from "./helpers";
import { writeLegacyInbox, writeLegacyRegion } from "./legacy-storage";
import { regionFollowers } from "./live-helpers";

const HOUR = 60 * 60 * SECOND;

function versionIn(storage: DurableObjectStorage) {
  return storage.sql.exec<{ version: number }>("SELECT version FROM schema_version").one().version;
}

function tablesIn(storage: DurableObjectStorage) {
  return storage.sql
    // The runtime's own tables (_cf_…) aside.
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB '_cf_*' ORDER BY name")
    .toArray()
    .map((row) => row.name);
}

/** The hash the publish route keys an Idempotency-Key's body by (SHA-256 of the key-sorted JSON). */
async function bodyHash(canonicalBody: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalBody));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A schema for tests, applied to a user object's storage emptied first: only its steps' tables exist. */
const scratchSchema = (steps: MigrationStep[]): Schema => ({ name: "Scratch", steps, unversionedTables: [] });

function inScratchStorage<T>(run: (storage: DurableObjectStorage) => T | Promise<T>) {
  return runInDurableObject(userStub(unique("scratch")), async (_instance, state) => {
    await wipeStorage(state.storage);
    return run(state.storage);
  });
}

const scratchRows = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ n: number }>("SELECT n FROM scratch ORDER BY n").toArray().map((row) => row.n);

describe("a fresh object", () => {
  it("starts at the latest version, user and region alike", async () => {
    const user = unique("u");
    const region = unique("r");
    await publish(user);
    await announce([region]);
    const userStorage = await runInDurableObject(userStub(user), (_instance, { storage }) => ({
      version: versionIn(storage),
      tables: tablesIn(storage),
    }));
    expect(userStorage).toStrictEqual({
      version: userSchema.steps.length,
      // Step 2 put the cursors per device; step 3 added the push channels, step 4 their pending attempts,
      // step 5 the outcomes and hand-overs, step 6 the outcomes of pushes that ended, step 7 scheduled messages.
      tables: [
        ...userSchema.unversionedTables.filter((table) => table !== "cursors"),
        "deliveries",
        "hand_overs",
        "device_cursors",
        "devices",
        "evictions",
        "push_jobs",
        "push_outcomes",
        "push_registrations",
        "scheduled",
        "schema_version",
      ].sort(),
    });
    const regionVersion = await runInDurableObject(regionStub(region), (_instance, { storage }) =>
      versionIn(storage),
    );
    expect(regionVersion).toBe(regionSchema.steps.length);
  });
});

describe("an object built by the code before versioning", () => {
  it("a user's object upgrades in place: nothing pending or unread lost, seqs go on, cursor and keys hold", async () => {
    const user = unique("u");
    const region = unique("r");
    for (let i = 1; i <= 3; i++) await announce([region], { body: `a${i}` });
    const { epoch } = await regionLog(region);
    const now = Date.now();
    const createdAt = (seq: number) => new Date(now - (5 - seq) * 1000).toISOString();
    // As the publish path writes them: seq, the content's fields, createdAt.
    const message = (seq: number): PersonalMessage => ({ seq, body: `m${seq}`, createdAt: createdAt(seq) });
    const withData: PersonalMessage = { seq: 4, title: "t", body: "m4", data: { orderId: 42 }, createdAt: createdAt(4) };
    const keyStoredAt = now - HOUR;
    const state = {
      lastSeq: 4,
      pendingCount: 2,
      unreadCount: 3,
      dropped: 1,
      region,
      pendingExpiresAt: now + 7 * DAY,
      unreadExpiresAt: now + 30 * DAY,
      idempotencyExpiresAt: keyStoredAt + DAY,
      alarmAt: keyStoredAt + DAY,
    };
    const firstAnswer = { seq: 4, createdAt: withData.createdAt, evicted: 0 };
    const stub = userStub(user);
    await runInDurableObject(stub, async (_instance, { storage }) => {
      await wipeStorage(storage);
      writeLegacyInbox(storage, {
        pending: [message(3), withData],
        unread: [message(2), message(3), withData],
        state,
        cursors: [{ region, epoch, cursor: 2 }],
        idempotency: [
          {
            key: "order-42",
            bodyHash: await bodyHash('{"body":"m4","data":{"orderId":42},"title":"t"}'),
            result: JSON.stringify(firstAnswer),
            storedAt: keyStoredAt,
          },
        ],
      });
      await storage.setAlarm(state.alarmAt);
    });
    await evictUser(user);

    expect(await userView(user)).toStrictEqual({
      userId: user,
      region,
      pending: { count: 2, oldestSeq: 3, newestSeq: 4, expiresAt: new Date(state.pendingExpiresAt).toISOString() },
      unread: { count: 3, expiresAt: new Date(state.unreadExpiresAt).toISOString() },
      cursors: { [region]: 2 },
      // The one device v1 knew is the default device, with its cursor, its `dropped` and everything pending.
      devices: {
        default: { pending: 2, acked: 0, lastSeenAt: expect.any(String), cursors: { [region]: 2 }, push: null },
      },
    });
    const again = await admin(messagesPath(user), {
      method: "POST",
      json: { title: "t", body: "m4", data: { orderId: 42 } },
      headers: { "Idempotency-Key": "order-42" },
    });
    expect([again.status, await again.json()]).toStrictEqual([201, firstAnswer]);

    const answer = await poll(user);
    expect(answer.personal).toStrictEqual([message(3), withData]);
    expect(answer.announcements.map((a) => a.body)).toEqual(["a3"]);
    expect([answer.region, answer.epoch, answer.cursor, answer.dropped]).toEqual([region, epoch, 3, 1]);
    expect(await unreadSeqs(user)).toEqual([2, 3, 4]);
    expect((await publish(user)).seq).toBe(5);
    expect(await runInDurableObject(stub, (_instance, { storage }) => versionIn(storage))).toBe(
      userSchema.steps.length,
    );
  });

  it("a region's object upgrades in place: ids go on from the head, the epoch and followers are kept", async () => {
    const region = unique("r");
    const follower = unique("u");
    const epoch = "0123456789abcdef";
    const now = Date.now();
    const stub = regionStub(region);
    await runInDurableObject(stub, async (_instance, { storage }) => {
      await wipeStorage(storage);
      writeLegacyRegion(storage, {
        epoch,
        head: 3,
        followers: [follower],
        announcements: [1, 2, 3].map((id) => ({
          stored_at: now,
          message: { id, region, body: `a${id}`, createdAt: new Date(now).toISOString() },
        })),
      });
      await storage.setAlarm(now + 30 * DAY);
    });
    await evictRegion(region);

    expect(await regionFollowers(region)).toEqual([follower]);
    expect((await announce([region], { body: "a4" })).ids[region]).toBe(4);
    const log = await regionLog(region);
    expect([log.epoch, log.oldest, log.head]).toEqual([epoch, 1, 4]);
    expect(log.announcements.map((a) => [a.id, a.body])).toEqual([1, 2, 3, 4].map((id) => [id, `a${id}`]));
    const answer = await poll(unique("u"), `?region=${region}&since=2&epoch=${epoch}`);
    expect([answer.announcements.map((a) => a.id), answer.epoch, answer.reset]).toEqual([[3, 4], epoch, false]);
    expect(await runInDurableObject(stub, (_instance, { storage }) => versionIn(storage))).toBe(
      regionSchema.steps.length,
    );
  });

  it("storage with only some of those tables and no version is refused, not guessed at", async () => {
    await inScratchStorage((storage) => {
      storage.sql.exec("CREATE TABLE inbox (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), state TEXT NOT NULL)");
      expect(() => migrate(storage, new MeteredSql(storage.sql), userSchema)).toThrow(
        "UserInbox storage has no schema version and only some of the tables pending, unread, cursors, idempotency, inbox",
      );
      expect(tablesIn(storage)).toEqual(["inbox"]);
    });
  });
});

describe("a step", () => {
  it("is applied once: a later start-up applies only steps added since, and an up-to-date one costs one row read", async () => {
    const applied: string[] = [];
    const first: MigrationStep[] = ["CREATE TABLE scratch (n INTEGER NOT NULL)", () => applied.push("2")];
    const added: MigrationStep = (sql) => {
      applied.push("3");
      sql.run("INSERT INTO scratch (n) VALUES (3)");
    };
    await inScratchStorage((storage) => {
      migrate(storage, new MeteredSql(storage.sql), scratchSchema(first));
      migrate(storage, new MeteredSql(storage.sql), scratchSchema([...first, added]));
      const upToDate = new MeteredSql(storage.sql);
      migrate(storage, upToDate, scratchSchema([...first, added]));
      expect(applied).toEqual(["2", "3"]);
      expect([versionIn(storage), scratchRows(storage)]).toEqual([3, [3]]);
      expect(upToDate.cost).toStrictEqual({ rowsRead: 1, rowsWritten: 0 });
    });
  });

  it("costs an up-to-date user or region object's start-up one row read and no write", async () => {
    const user = unique("u");
    const region = unique("r");
    await publish(user);
    await announce([region]);
    const startUpCost = (storage: DurableObjectStorage, schema: Schema) => {
      const sql = new MeteredSql(storage.sql);
      migrate(storage, sql, schema);
      return sql.cost;
    };
    const userCost = runInDurableObject(userStub(user), (_instance, { storage }) =>
      startUpCost(storage, userSchema),
    );
    const regionCost = runInDurableObject(regionStub(region), (_instance, { storage }) =>
      startUpCost(storage, regionSchema),
    );
    expect(await Promise.all([userCost, regionCost])).toStrictEqual([
      { rowsRead: 1, rowsWritten: 0 },
      { rowsRead: 1, rowsWritten: 0 },
    ]);
  });

  it("interrupted midway leaves the version where it was and nothing of the step applied; the next start applies it", async () => {
    let interrupt = true;
    const steps: MigrationStep[] = [
      "CREATE TABLE scratch (n INTEGER NOT NULL)",
      (sql) => {
        sql.run("INSERT INTO scratch (n) VALUES (2)");
        sql.run("CREATE TABLE scratch_more (n INTEGER NOT NULL)");
        if (interrupt) throw new Error("interrupted midway");
      },
    ];
    await inScratchStorage((storage) => {
      expect(() => migrate(storage, new MeteredSql(storage.sql), scratchSchema(steps))).toThrow("interrupted midway");
      expect([versionIn(storage), scratchRows(storage), tablesIn(storage)]).toEqual([
        1,
        [],
        ["schema_version", "scratch"],
      ]);

      interrupt = false;
      migrate(storage, new MeteredSql(storage.sql), scratchSchema(steps));
      expect([versionIn(storage), scratchRows(storage), tablesIn(storage)]).toEqual([
        2,
        [2],
        ["schema_version", "scratch", "scratch_more"],
      ]);
    });
  });
});

describe("a stored version newer than the code's (a rollback)", () => {
  const newer = userSchema.steps.length + 1;
  const refusal = `UserInbox storage is at schema version ${newer}, newer than this code's latest (${userSchema.steps.length})`;

  it("is refused by migrate, which changes nothing", async () => {
    const user = unique("u");
    await publish(user, { body: "kept" });
    const stub = userStub(user);
    await runInDurableObject(stub, (_instance, { storage }) => {
      storage.sql.exec("UPDATE schema_version SET version = ?", newer);
      const before = tablesIn(storage);
      expect(() => migrate(storage, new MeteredSql(storage.sql), userSchema)).toThrow(refusal);
      expect([versionIn(storage), tablesIn(storage)]).toEqual([newer, before]);
      storage.sql.exec("UPDATE schema_version SET version = ?", userSchema.steps.length);
    });
    await evictUser(user);
    expect((await poll(user)).personal.map((m) => m.body)).toEqual(["kept"]);
  });
});
