import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db/index";
import { stripeEvents, users } from "@/db/schema";

describe("database", () => {
  it("starts migrated and empty, with the billing columns and the event log", async () => {
    const db = await getDb();
    expect(await db.select().from(users)).toEqual([]);
    const [created] = await db.insert(users).values({ email: "a@example.com" }).returning();
    expect(created).toMatchObject({ email: "a@example.com", planActive: false, stripeCustomerId: null, planExpires: null });
    await db.insert(stripeEvents).values({ id: "evt_1", type: "invoice.paid" });
    const [event] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, "evt_1"));
    expect(event?.receivedAt).toBeInstanceOf(Date);
  });

  it("refuses a second user with the same Stripe customer", async () => {
    const db = await getDb();
    await db.insert(users).values({ email: "b@example.com", stripeCustomerId: "cus_same" });
    await expect(db.insert(users).values({ email: "c@example.com", stripeCustomerId: "cus_same" })).rejects.toThrow();
  });
});
