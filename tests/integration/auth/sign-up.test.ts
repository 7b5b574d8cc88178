import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { getDb } from "@/db/index";
import { users } from "@/db/schema";
import { authenticateWithPassword } from "@/server/auth/credentials";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { accounts, sessions, verificationTokens } from "@/db/schema";
import { onAdapterCreatedUser, type PostSignUpTask } from "@/server/auth/post-sign-up";
import { signUp } from "@/server/auth/sign-up";
import { AppError } from "@/server/errors";

let counter = 0;
const uniqueEmail = () => `person${++counter}-${Date.now()}@example.com`;

/** A scheduler that keeps the background work so a test can run it after the "response". */
function collectingScheduler() {
  const pending: Array<() => Promise<void>> = [];
  return { schedule: (work: () => Promise<void>) => void pending.push(work), pending };
}

async function expectAppError(promise: Promise<unknown>, code: string, message: RegExp) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code });
  expect((error as AppError).message).toMatch(message);
  return error as AppError;
}

describe("sign-up", () => {
  it("stores the user with a normalised email and a scrypt hash, never the password", async () => {
    const { schedule } = collectingScheduler();
    const email = uniqueEmail();
    const created = await signUp({ name: " Ada ", email: `  ${email.toUpperCase()} `, password: "correct horse" }, { schedule, tasks: [] });
    const [row] = await (await getDb()).select().from(users).where(eq(users.id, created.id));
    expect(row).toMatchObject({ email, name: "Ada", planActive: false, stripeCustomerId: null });
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(row?.passwordHash).not.toContain("correct horse");
  });

  it("rejects a duplicate email with a clear conflict, case-insensitively, and keeps one row", async () => {
    const email = uniqueEmail();
    await signUp({ email, password: "password-one" }, { schedule: () => {}, tasks: [] });
    const error = await expectAppError(
      signUp({ email: email.toUpperCase(), password: "password-two" }, { schedule: () => {}, tasks: [] }),
      "CONFLICT",
      /already exists/,
    );
    expect(error.details).toMatchObject({ fieldErrors: { email: [expect.stringMatching(/already exists/)] } });
    const rows = await (await getDb()).select().from(users).where(eq(users.email, email));
    expect(rows).toHaveLength(1);
  });

  it("lets exactly one of two concurrent sign-ups with the same email win", async () => {
    const email = uniqueEmail();
    const results = await Promise.allSettled([
      signUp({ email, password: "password-one" }, { schedule: () => {}, tasks: [] }),
      signUp({ email, password: "password-two" }, { schedule: () => {}, tasks: [] }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((result) => result.status === "rejected");
    expect(rejected?.status === "rejected" && rejected.reason).toMatchObject({ code: "CONFLICT" });
  });

  it.each([
    [{ email: "not-an-email", password: "long enough" }, "email", /valid email/],
    [{ email: "", password: "long enough" }, "email", /Enter your email/],
    [{ password: "long enough" }, "email", /Enter your email/],
    [{ email: "a@example.com", password: "short" }, "password", /at least 10/],
    [{ email: "a@example.com", password: "12345678" }, "password", /at least 10/],
    [{ email: "a@example.com", password: "1234567890" }, "password", /too common/],
    [{ email: "a@example.com", password: "          " }, "password", /not spaces/],
    [{ email: "a@example.com", password: "x".repeat(129) }, "password", /at most 128/],
    [{ email: "a@example.com" }, "password", /Choose a password/],
    [{ email: "a@example.com", password: "long enough", name: "n".repeat(101) }, "name", /under 100/],
    [{ email: "a@example.com", password: "long enough", name: "Ada\u0000" }, "name", /control characters/],
    [{ email: "a@example.com", password: "long enough", name: "Ada\nLovelace" }, "name", /control characters/],
    [{ email: 42, password: ["x"] }, "email", /email/],
  ])("rejects malformed input %o with a message for %s", async (input, field, message) => {
    const error = await expectAppError(signUp(input, { schedule: () => {}, tasks: [] }), "BAD_REQUEST", /./);
    const fieldErrors = error.details?.fieldErrors as Record<string, string[]>;
    expect(fieldErrors[field]?.[0]).toMatch(message);
  });

  it("schedules the post-sign-up hook once, after the response, with the new user", async () => {
    const { schedule, pending } = collectingScheduler();
    const run = vi.fn<PostSignUpTask["run"]>(async () => {});
    const created = await signUp({ email: uniqueEmail(), password: "correct horse" }, { schedule, tasks: [{ name: "probe", run }] });
    expect(run).not.toHaveBeenCalled(); // nothing ran before the sign-up answered
    expect(pending).toHaveLength(1);
    await pending[0]?.();
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith({ id: created.id, email: created.email });
  });

  it("does not fail the sign-up when a hook task fails, and still runs the tasks after it", async () => {
    const { schedule, pending } = collectingScheduler();
    const after = vi.fn<PostSignUpTask["run"]>(async () => {});
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const tasks: PostSignUpTask[] = [
      { name: "broken", run: async () => Promise.reject(new Error("Stripe is down")) },
      { name: "next", run: after },
    ];
    const created = await signUp({ email: uniqueEmail(), password: "correct horse" }, { schedule, tasks });
    await expect(pending[0]?.()).resolves.toBeUndefined();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('"broken" failed'), expect.any(Error));
    errors.mockRestore();
    const [row] = await (await getDb()).select().from(users).where(eq(users.id, created.id));
    expect(row?.id).toBe(created.id);
  });

  it("does not fail the sign-up when the work cannot even be scheduled", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const created = await signUp(
      { email: uniqueEmail(), password: "correct horse" },
      { schedule: () => { throw new Error("after() called outside a request scope"); }, tasks: [] },
    );
    expect(created.id).toEqual(expect.any(String));
    errors.mockRestore();
  });
});

describe("users the Auth.js adapter creates (OAuth sign-ups)", () => {
  it("pass through the same post-sign-up hook, scheduled after the response", async () => {
    const db = await getDb();
    const adapter = DrizzleAdapter(db, { usersTable: users, accountsTable: accounts, sessionsTable: sessions, verificationTokensTable: verificationTokens });
    const created = await adapter.createUser?.({ id: crypto.randomUUID(), email: uniqueEmail(), emailVerified: null, name: "Octo Cat" });
    if (!created) throw new Error("the adapter created no user");
    const { schedule, pending } = collectingScheduler();
    const run = vi.fn<PostSignUpTask["run"]>(async () => {});
    onAdapterCreatedUser(created, { schedule, tasks: [{ name: "probe", run }] });
    expect(run).not.toHaveBeenCalled();
    await pending[0]?.();
    expect(run).toHaveBeenCalledWith({ id: created.id, email: created.email });
    const [row] = await db.select().from(users).where(eq(users.id, created.id));
    expect(row).toMatchObject({ email: created.email, passwordHash: null });
  });

  it("skip the hook for a provider profile without an email", () => {
    const { schedule, pending } = collectingScheduler();
    onAdapterCreatedUser({ id: "u1", email: null }, { schedule, tasks: [] });
    expect(pending).toHaveLength(0);
  });
});

describe("sign-in with a password", () => {
  it("accepts the right password and refuses a wrong one or an unknown email alike", async () => {
    const email = uniqueEmail();
    const created = await signUp({ email, password: "correct horse" }, { schedule: () => {}, tasks: [] });
    expect(await authenticateWithPassword({ email: email.toUpperCase(), password: "correct horse" })).toEqual({
      id: created.id,
      email,
      name: null,
    });
    expect(await authenticateWithPassword({ email, password: "wrong horse" })).toBeNull();
    expect(await authenticateWithPassword({ email: uniqueEmail(), password: "correct horse" })).toBeNull();
    expect(await authenticateWithPassword({ email, password: "" })).toBeNull();
    expect(await authenticateWithPassword({ email: ["x"], password: 5 })).toBeNull();
  });
});
