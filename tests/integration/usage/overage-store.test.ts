// The overage ledger's contract against each store: in-process, and Upstash through the bridge and a real Redis.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe } from "vitest";
import { createMemoryOverageStore, createUpstashOverageStore } from "@/server/usage";
import { redisUrl, startBridgeFixture, type BridgeFixture } from "@/sandbox/upstash/tests/bridge-fixture";
import { describeOverageStoreContract } from "./overage-store-contract";

let clock = Date.parse("2031-03-01T00:00:00Z");

describeOverageStoreContract("memory store", () => ({
  createStore: (options) => createMemoryOverageStore({ now: () => clock, ...options }),
  now: () => clock,
  advance: async (ms) => {
    clock += ms;
  },
  userPrefix: "memory-",
}));

const prefix = `overage-${randomUUID().slice(0, 8)}-`;
let fixture: BridgeFixture;

describe.runIf(redisUrl)("Upstash overage store through the bridge and a real Redis", () => {
  beforeAll(async () => {
    fixture = await startBridgeFixture([`chatbot-overage:${prefix}*`]);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  describeOverageStoreContract("upstash store", () => ({
    createStore: (options) => createUpstashOverageStore(fixture.client(), options),
    now: () => Date.now(),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    userPrefix: prefix,
  }));
});
