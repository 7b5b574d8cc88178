// The bridge against a real Redis, driven by the real @upstash/redis client with its default settings
// (auto-pipelining, base64 replies, retries), plus raw HTTP for the status codes and reply shapes.
import { createHash, randomUUID } from "node:crypto";
import { Redis as UpstashRedis, errors } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstashBridge } from "../index";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "./bridge-fixture";

const prefix = `bridge-test:${randomUUID()}:`;
const key = (name: string) => `${prefix}${name}`;
let fixture: BridgeFixture;
let client: UpstashRedis;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fixture.bridge.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${fixture.token}`, "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe.runIf(redisUrl)("Upstash bridge with the default @upstash/redis client", () => {
  beforeAll(async () => {
    fixture = await startBridgeFixture([`${prefix}*`]);
    client = fixture.client();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("round-trips strings that look like JSON, numbers, base64 and unicode", async () => {
    const values = {
      json: '{"plan":"pro","tokens":1000}',
      number: "12345",
      ok: "OK",
      base64ish: "T0s=",
      unicode: "héllo wörld ✓ 🚀 日本語",
      empty: "",
    };
    for (const [name, value] of Object.entries(values)) expect(await client.set(key(name), value)).toBe("OK");
    // Redis holds exactly the bytes sent.
    for (const [name, value] of Object.entries(values)) expect(await fixture.redis.get(key(name))).toBe(value);
    // The client decodes base64 and then, by default, parses JSON.
    expect(await client.get(key("json"))).toEqual({ plan: "pro", tokens: 1000 });
    expect(await client.get(key("number"))).toBe(12345);
    expect(await client.get(key("ok"))).toBe("OK");
    expect(await client.get(key("base64ish"))).toBe("T0s=");
    expect(await client.get(key("unicode"))).toBe(values.unicode);
    expect(await client.get(key("empty"))).toBe("");
    expect(await client.get(key("missing"))).toBeNull();
    expect(await client.mget(key("unicode"), key("missing"), key("ok"))).toEqual([values.unicode, null, "OK"]);
  });

  it("counts with incr and decrby, and answers status replies like PONG and TYPE", async () => {
    expect(await client.incr(key("counter"))).toBe(1);
    expect(await client.decrby(key("counter"), 5)).toBe(-4);
    expect(await client.incrby(key("counter"), 1_000_000)).toBe(999_996);
    expect(await fixture.redis.get(key("counter"))).toBe("999996");
    expect(await client.ping()).toBe("PONG");
    expect(await client.type(key("counter"))).toBe("string");
    await client.hset(key("hash"), { a: "1", b: "two", "2": "OK" });
    expect(await client.hgetall(key("hash"))).toEqual({ a: 1, b: "two", "2": "OK" });
    expect(await post("/", ["hgetall", key("hash")])).toEqual({
      status: 200,
      body: { result: ["2", "OK", "a", "1", "b", "two"] },
    });
    expect(await client.mget(key("hash"), key("counter"))).toEqual([null, 999_996]);
  });

  it("runs explicit pipelines, reporting a failed command without losing the others", async () => {
    const results = await client.pipeline().set(key("p"), "1").incr(key("p")).get(key("p")).exec();
    expect(results).toEqual(["OK", 2, 2]);

    await fixture.redis.set(key("text"), "not a number");
    const pipeline = client.pipeline().incr(key("p")).incr(key("text")).get(key("p"));
    await expect(pipeline.exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
    // Not a transaction: the commands around the failed one ran.
    expect(await fixture.redis.get(key("p"))).toBe("3");
    const kept = await client.pipeline().incr(key("p")).incr(key("text")).get(key("p")).exec({ keepErrors: true });
    expect(kept[0]).toEqual({ error: undefined, result: 4 });
    expect(kept[1]?.error).toMatch(/ERR value is not an integer/);
    expect(kept[2]).toEqual({ error: undefined, result: 4 });
  });

  it("auto-pipelines concurrent commands into one request", async () => {
    // The counter lives on the auto-pipelining proxy only, so it is not in the client's type.
    const pipelines = () => {
      const count: unknown = Reflect.get(client, "pipelineCounter");
      if (typeof count !== "number") throw new Error("auto-pipelining is off");
      return count;
    };
    const before = pipelines();
    const names = Array.from({ length: 50 }, (_, i) => key(`auto-${i}`));
    await Promise.all(names.map((name, i) => client.set(name, `v${i}`)));
    const values = await Promise.all(names.map((name) => client.get(name)));
    expect(values).toEqual(names.map((_, i) => `v${i}`));
    expect(pipelines() - before).toBe(2);
  });

  it("runs multi() transactions atomically", async () => {
    expect(await client.multi().set(key("m"), 1).incr(key("m")).get(key("m")).exec()).toEqual(["OK", 2, 2]);
    // Each transaction's two increments are adjacent, however many run at once.
    const pairs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? client : fixture.client()).multi().incr(key("atomic")).incr(key("atomic")).exec(),
      ),
    );
    for (const [first, second] of pairs) expect(second).toBe(Number(first) + 1);
    expect(await fixture.redis.get(key("atomic"))).toBe("80");
  });

  it("reports a command failing inside a transaction, and aborts one refused while queueing", async () => {
    await fixture.redis.set(key("str"), "x");
    await expect(client.multi().set(key("tx"), "1").hget(key("str"), "f").exec()).rejects.toThrow(
      /Command 2 \[ hget \] failed: WRONGTYPE/,
    );
    expect(await fixture.redis.get(key("tx"))).toBe("1");

    // GET without its key is refused by Redis while queueing (wrong number of arguments).
    const aborted = await post("/multi-exec", [["set", key("never"), "1"], ["get"]]);
    expect(aborted.status).toBe(400);
    expect(aborted.body.error).toMatch(/^EXECABORT/);
    expect(await fixture.redis.exists(key("never"))).toBe(0);
  });

  it("falls back from EVALSHA to EVAL when Redis has no copy of a script", async () => {
    const lua = `return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[2])} -- ${randomUUID()}`;
    const sha = createHash("sha1").update(lua).digest("hex");
    await fixture.redis.script("FLUSH");
    const script = client.createScript(lua);
    await expect(script.evalsha([key("s")], ["hi", "5"])).rejects.toThrow(/NOSCRIPT/);
    expect(await script.exec([key("s")], ["héllo", "5"])).toEqual([key("s"), "héllo", 5]);
    expect(await fixture.redis.script("EXISTS", sha)).toEqual([1]);
    expect(await script.exec([key("s")], ["again", "1"])).toEqual([key("s"), "again", 6]);
  });

  it("turns Redis errors into UpstashError, and a failed single command into a 400", async () => {
    await fixture.redis.set(key("plain"), "x");
    const error = await client.hget(key("plain"), "y").then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(errors.UpstashError);
    expect(String(error)).toMatch(/WRONGTYPE/);

    const single = await post("/", ["hset", key("plain"), "f", "y"]);
    expect(single).toEqual({
      status: 400,
      body: { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    });
  });

  it("encodes replies as base64 only when asked", async () => {
    await fixture.redis.set(key("enc"), "héllo");
    expect(await post("/", ["get", key("enc")])).toEqual({ status: 200, body: { result: "héllo" } });
    expect(await post("/", ["get", key("enc")], { "Upstash-Encoding": "base64" })).toEqual({
      status: 200,
      body: { result: Buffer.from("héllo").toString("base64") },
    });
    expect(await post("/", ["set", key("enc"), "v"], { "Upstash-Encoding": "base64" })).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect(await post("/pipeline", [["incr", key("n")], ["get", key("n")], ["get", key("none")]], {
      "Upstash-Encoding": "base64",
    })).toEqual({ status: 200, body: [{ result: 1 }, { result: "MQ==" }, { result: null }] });
  });

  it("refuses a missing or wrong token with 401", async () => {
    const wrong = new UpstashRedis({ url: fixture.bridge.url, token: "not-the-token", enableTelemetry: false });
    await expect(wrong.get(key("x"))).rejects.toThrow(errors.UpstashError);
    await expect(wrong.get(key("x"))).rejects.toThrow(/Unauthorized/);
    expect(await post("/", ["ping"], { Authorization: "Bearer nope" })).toEqual({
      status: 401,
      body: { error: "Unauthorized" },
    });
    const bare = await fetch(`${fixture.bridge.url}/`, { method: "POST", body: '["ping"]' });
    expect(bare.status).toBe(401);
  });

  it("answers malformed requests with 400 and unknown paths with 404", async () => {
    expect((await post("/", "{not json")).status).toBe(400);
    expect((await post("/", [])).status).toBe(400);
    expect((await post("/", [["nested"]])).status).toBe(400);
    expect((await post("/pipeline", [])).status).toBe(400);
    expect((await post("/", ["subscribe", "channel"])).status).toBe(400);
    expect((await post("/nowhere", ["ping"])).status).toBe(404);
  });
});

describe.runIf(redisUrl)("Upstash bridge command allow-list", () => {
  beforeAll(async () => {
    fixture = await startBridgeFixture([`${prefix}*`]);
    client = fixture.client();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it("refuses server and admin commands with 400 ERR before they reach Redis", async () => {
    await fixture.redis.set(key("survivor"), "still here");
    for (const command of [
      ["config", "get", "dir"],
      ["CONFIG", "SET", "dir", "/tmp"],
      ["flushall"],
      ["flushdb"],
      ["keys", "*"],
      ["debug", "sleep", "0"],
      ["shutdown", "nosave"],
      ["script", "flush"],
      ["client", "list"],
      ["acl", "list"],
      ["select", "1"],
      ["subscribe", "channel"],
      ["eval_ro", "return 1", 0],
      ["function", "flush"],
    ]) {
      const reply = await post("/", command);
      expect({ command, reply }).toEqual({ command, reply: { status: 400, body: { error: expect.stringMatching(/^ERR .*not allowed/) } } });
    }
    // Inside a pipeline or a transaction, one refused command refuses the whole request.
    expect((await post("/pipeline", [["get", key("survivor")], ["flushall"]])).status).toBe(400);
    expect((await post("/multi-exec", [["get", key("survivor")], ["keys", "*"]])).status).toBe(400);
    expect(await fixture.redis.get(key("survivor"))).toBe("still here");
    expect(String(await client.get(key("survivor")))).toBe("still here");
  });

  it("runs the Lua the budget store sends, and refuses Lua that could call anything else", async () => {
    expect(await post("/", ["eval", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, key("lua"), 2])).toEqual({ status: 200, body: { result: 2 } });
    expect(
      await post("/", ["eval", "if not redis.call('GET', KEYS[1]) then return redis.error_reply('ERR none') end -- redis.call('FLUSHALL')\nreturn 1", 1, key("lua")]),
    ).toEqual({ status: 200, body: { result: 1 } });
    await fixture.redis.set(key("survivor"), "still here");
    for (const lua of [
      "return redis.call('CONFIG', 'GET', 'dir')",
      "return redis.pcall('FLUSHALL')",
      'return redis.call("KEYS", "*")',
      "return redis.call(ARGV[1])",
      "local r = redis; return r.call('FLUSHALL')",
      "local c = redis.call; return c('FLUSHALL')",
      "return _G['red' .. 'is'].call('FLUSHALL')",
      "return getfenv(1).redis.call('FLUSHALL')",
      "return loadstring(\"return redis.call('FLUSHALL')\")()",
      "return redis [ 'call' ] ('FLUSHALL')",
    ]) {
      const evaluated = await post("/", ["eval", lua, 0]);
      expect({ lua, evaluated }).toEqual({ lua, evaluated: { status: 400, body: { error: expect.stringMatching(/^ERR scripts over this REST bridge/) } } });
      expect((await post("/", ["script", "load", lua])).status).toBe(400);
    }
    expect(await fixture.redis.get(key("survivor"))).toBe("still here");
  });

  it("answers NOSCRIPT to EVALSHA of a script it has not checked, even when Redis holds it", async () => {
    const unsafe = `return redis.call('DBSIZE') -- ${randomUUID()}`;
    const sha = String(await fixture.redis.script("LOAD", unsafe));
    expect(await post("/", ["evalsha", sha, 0])).toEqual({ status: 400, body: { error: "NOSCRIPT No matching script. Please use EVAL." } });
    expect(await post("/pipeline", [["evalsha", sha, 0], ["ping"]])).toEqual({
      status: 200,
      body: [{ error: "NOSCRIPT No matching script. Please use EVAL." }, { result: "PONG" }],
    });
    // A checked script, once loaded through the bridge, runs by its hash.
    const safe = `return redis.call('GET', KEYS[1]) -- ${randomUUID()}`;
    const loaded = await post("/", ["script", "load", safe]);
    expect(loaded.status).toBe(200);
    await fixture.redis.set(key("by-sha"), "v");
    expect(await post("/", ["evalsha", loaded.body.result, 1, key("by-sha")])).toEqual({ status: 200, body: { result: "v" } });
  });
});

describe("Upstash bridge with Redis gone", () => {
  it("gives the client an error quickly instead of hanging", async () => {
    const bridge = await startUpstashBridge({ port: 0, redisUrl: "redis://127.0.0.1:1", token: "t" });
    try {
      const down = new UpstashRedis({ url: bridge.url, token: "t", enableTelemetry: false });
      const started = Date.now();
      await expect(down.get("anything")).rejects.toThrow(/redis unavailable/);
      const res = await fetch(`${bridge.url}/`, {
        method: "POST",
        headers: { Authorization: "Bearer t" },
        body: '["get","anything"]',
      });
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await bridge.close();
    }
  });
});
