import { describe, expect, it } from "vitest";
import { passwordProblem } from "@/server/auth/password-policy";

describe("password policy", () => {
  it.each(["password", "12345678", "        ", "          ", "short"])("refuses %j for its length", async (password) => {
    expect(await passwordProblem(password)).toMatch(/at least 10 characters/);
  });

  it.each(["password1234", "1234567890", "qwertyuiop", "iloveyou12", "Password123!", "aaaaaaaaaaaa", "trustno1trustno1"])(
    "refuses the common or trivial %j",
    async (password) => {
      expect(await passwordProblem(password)).toMatch(/too common or too easy to guess/);
    },
  );

  it("refuses a password made of the user's own email", async () => {
    expect(await passwordProblem("adalovelace1", ["adalovelace@example.com"])).toMatch(/too common/);
  });

  it.each(["correct horse battery", "bench-chat-password", "wrong password 123", "Tr0ub4dor&3xyz"])("accepts %j", async (password) => {
    expect(await passwordProblem(password, ["someone@example.com"])).toBeNull();
  });
});
