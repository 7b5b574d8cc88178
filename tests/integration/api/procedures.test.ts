import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db/index";
import { users } from "@/db/schema";
import { getBudgetStore } from "@/server/usage";
import { createCaller } from "@/server/api/root";
import { signUp } from "@/server/auth/sign-up";

describe("tRPC procedures", () => {
  it("refuses anonymous callers of protected procedures with UNAUTHORIZED", async () => {
    const caller = createCaller({ db: await getDb(), userId: null });
    await expect(caller.account.me()).rejects.toSatisfy(
      (error: unknown) => error instanceof TRPCError && error.code === "UNAUTHORIZED" && /Sign in/.test(error.message),
    );
    await expect(caller.billing.createPortalSession()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(caller.billing.createCheckoutSession({ plan: "starter" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(caller.usage.budget()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("answers usage.budget: null on the free tier, the period's budget on a paid plan", async () => {
    const db = await getDb();
    const user = await signUp({ email: `usage-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const caller = createCaller({ db, userId: user.id });
    expect(await caller.usage.budget()).toBeNull();

    const periodEnd = new Date(Math.ceil((Date.now() + 30 * 86_400_000) / 1000) * 1000);
    await db
      .update(users)
      .set({ planActive: true, planId: "starter", subscriptionStatus: "active", stripeCurrentPeriodEnd: periodEnd, planExpires: periodEnd })
      .where(eq(users.id, user.id));
    await getBudgetStore().reset(user.id, 1_000_000, periodEnd);
    await getBudgetStore().reserve(user.id, "r1", 250);
    expect(await caller.usage.budget()).toEqual({ tokenBudget: 1_000_000, tokensRemaining: 999_750, resetsAt: periodEnd });
  });

  it("answers account.me and account.session for the signed-in user", async () => {
    const user = await signUp({ email: `me-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    expect(await caller.account.me()).toMatchObject({ id: user.id, email: user.email, createdAt: expect.any(Date) });
    expect(await caller.account.session()).toEqual({ user: { id: user.id, email: user.email, name: null }, paymentDue: null });
    expect(await createCaller({ db: await getDb(), userId: null }).account.session()).toEqual({ user: null, paymentDue: null });
  });

  it("treats a session whose user was deleted as signed out", async () => {
    const caller = createCaller({ db: await getDb(), userId: "no-such-user" });
    await expect(caller.account.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("rejects an unknown plan with BAD_REQUEST before touching Stripe", async () => {
    const user = await signUp({ email: `plan-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    // @ts-expect-error: an unknown plan id, as a hostile client could send
    await expect(caller.billing.createCheckoutSession({ plan: "enterprise" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("rejects an unknown billing interval with BAD_REQUEST and says which ones exist", async () => {
    const user = await signUp({ email: `interval-${Date.now()}@example.com`, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    const caller = createCaller({ db: await getDb(), userId: user.id });
    // @ts-expect-error: an unknown interval, as a hostile client could send
    const attempt = caller.billing.createCheckoutSession({ plan: "starter", interval: "weekly" });
    await expect(attempt).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(attempt).rejects.toThrow("Choose a billing interval: month or year.");
  });
});
