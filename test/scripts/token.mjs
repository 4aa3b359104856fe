// `npm run token` says which id is wrong and by which rule, takes --region,
// --device and --ttl, and prints a token signed with .dev.vars' secret.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jwtVerify } from "jose";
import { tokenRequest, UsageError } from "../../scripts/token-options.mjs";
import { runScript, scratchProject } from "./support/scratch.mjs";

const DAY = 86_400;

/** The lines of the UsageError that `args` get. */
function problemsOf(args) {
  try {
    tokenRequest(args);
  } catch (error) {
    assert.ok(error instanceof UsageError, error);
    return error.message.split("\n");
  }
  assert.fail(`${JSON.stringify(args)} were accepted`);
}

describe("the arguments", () => {
  it("a userId alone: a 24 h token for that sub", () => {
    assert.deepEqual(tokenRequest(["alice"]), { claims: { sub: "alice" }, ttlSeconds: DAY });
  });

  it("--region, --device and --ttl, in either option form", () => {
    assert.deepEqual(tokenRequest(["alice", "--region", "bj", "--device=phone-1", "--ttl", "1h"]), {
      claims: { sub: "alice", region: "bj", device: "phone-1" },
      ttlSeconds: 3_600,
    });
  });

  it("a second argument is the region, as in `npm run token -- alice bj`", () => {
    assert.deepEqual(tokenRequest(["alice", "bj"]).claims, { sub: "alice", region: "bj" });
  });

  it("--ttl in seconds or with s, m, h, d", () => {
    const ttl = (value) => tokenRequest(["alice", "--ttl", value]).ttlSeconds;
    assert.deepEqual(["3600", "45s", "90m", "2h", "7d"].map(ttl), [3_600, 45, 5_400, 7_200, 7 * DAY]);
  });

  it("--help and -h ask for help", () => {
    assert.deepEqual(tokenRequest(["--help"]), { help: true });
    assert.deepEqual(tokenRequest(["-h"]), { help: true });
  });

  it("each invalid id is named with the rule it breaks", () => {
    assert.deepEqual(problemsOf(["al ice", "--region", "b/j", "--device", "x".repeat(65)]), [
      'userId must be 1-128 characters of A-Za-z0-9._:@-, got "al ice"',
      'region must be 1-64 characters of A-Za-z0-9._-, got "b/j"',
      `device must be 1-64 characters of A-Za-z0-9._-, got "${"x".repeat(65)}"`,
    ]);
    assert.deepEqual(problemsOf(["a".repeat(129)]), [`userId must be 1-128 characters of A-Za-z0-9._:@-, got "${"a".repeat(129)}"`]);
    assert.deepEqual(problemsOf(["alice", "b j"]), ['region must be 1-64 characters of A-Za-z0-9._-, got "b j"']);
  });

  it("a missing userId, a --ttl that is not a positive time, two regions and extra arguments", () => {
    assert.deepEqual(problemsOf([]), ["a userId is required"]);
    for (const ttl of ["0", "1w", "1.5h", "-1", "h"]) {
      assert.match(problemsOf(["alice", `--ttl=${ttl}`])[0], /^--ttl must be a positive number of seconds, or one with s, m, h or d/);
    }
    assert.deepEqual(problemsOf(["alice", "bj", "--region", "sh"]), ['two regions given ("bj" and --region "sh"): give one']);
    assert.deepEqual(problemsOf(["alice", "bj", "more"]), ['unexpected argument "more"']);
  });

  it("an unknown option or one without its value", () => {
    assert.match(problemsOf(["alice", "--regin", "bj"])[0], /Unknown option '--regin'/);
    assert.match(problemsOf(["alice", "--region"])[0], /--region/);
  });
});

describe("npm run token", () => {
  const secret = "scratch-client-secret";

  it("prints an HS256 token signed with CLIENT_JWT_SECRET from .dev.vars, with the claims asked for", async () => {
    const dir = scratchProject({ ".dev.vars": `ADMIN_TOKEN=a\nCLIENT_JWT_SECRET="${secret}"\n` });
    const { status, stdout } = runScript(dir, "token.mjs", ["alice", "--region", "bj", "--device", "phone-1", "--ttl", "7d"]);
    assert.equal(status, 0);
    const { payload, protectedHeader } = await jwtVerify(stdout.trim(), new TextEncoder().encode(secret));
    assert.equal(protectedHeader.alg, "HS256");
    const { iat, exp, ...claims } = payload;
    assert.deepEqual(claims, { sub: "alice", region: "bj", device: "phone-1" });
    assert.equal(exp - iat, 7 * DAY);
  });

  it("a bad id: exit 2, the reason and the usage on stderr, nothing on stdout", () => {
    const { status, stdout, stderr } = runScript(scratchProject({ ".dev.vars": `CLIENT_JWT_SECRET=${secret}\n` }), "token.mjs", ["al ice"]);
    assert.equal(status, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /^userId must be 1-128 characters of A-Za-z0-9._:@-, got "al ice"\nusage: npm run token -- <userId>/);
  });

  it("--help: the usage and every option on stdout, exit 0", () => {
    const { status, stdout } = runScript(scratchProject(), "token.mjs", ["--help"]);
    assert.equal(status, 0);
    for (const part of ["usage: npm run token --", "--region <id>", "--device <id>", "--ttl <time>"]) assert.ok(stdout.includes(part), part);
  });

  it("no .dev.vars: exit 1, saying how to create it", () => {
    const { status, stderr } = runScript(scratchProject(), "token.mjs", ["alice"]);
    assert.equal(status, 1);
    assert.match(stderr, /No CLIENT_JWT_SECRET in .dev.vars: run `npm run dev` once/);
  });
});
