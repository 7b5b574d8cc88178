import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "@/lib/safe-redirect";

describe("safeCallbackPath", () => {
  it.each([
    ["/chat", "/chat"],
    ["/account?checkout=success", "/account?checkout=success"],
    ["https://evil.example/", "/account"],
    ["//evil.example", "/account"],
    ["/\\evil.example", "/account"],
    ["chat", "/account"],
    [undefined, "/account"],
    [["/chat"], "/account"],
  ])("%o -> %s", (input, expected) => {
    expect(safeCallbackPath(input)).toBe(expected);
  });
});
