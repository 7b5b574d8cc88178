import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "@/lib/safe-redirect";

const base = "https://app.example.com";

describe("safeCallbackPath", () => {
  it.each([
    ["/chat", "/chat"],
    ["/account?checkout=success", "/account?checkout=success"],
    ["/pricing#pro", "/pricing#pro"],
    ["/a%20b", "/a%20b"],
    ["https://evil.example/", "/account"],
    ["//evil.example", "/account"],
    ["/\\evil.example", "/account"],
    ["/\\evil", "/account"],
    ["\\\\evil", "/account"],
    ["chat", "/account"],
    [undefined, "/account"],
    [["/chat"], "/account"],
    ["", "/account"],
  ])("%o -> %s", (input, expected) => {
    expect(safeCallbackPath(input, "/account", base)).toBe(expected);
  });

  it.each([
    "/%09/evil.example",
    "/\t/evil.example",
    "/\r/evil.example",
    "/\n/evil.example",
    "/%0d%0a/evil.example",
    "/%0A/evil.example",
    "/%00/evil.example",
    "/%1f/evil.example",
    "/%7f/evil.example",
    "/%5Cevil.example",
    "/%5cevil",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",
    "/%2509/evil.example",
    "/%255Cevil",
    "/%E0%A4%A",
    "/x".repeat(2000),
    "https://app.example.com.evil.example/",
    "http://app.example.com/",
  ])("refuses %j", (input) => {
    expect(safeCallbackPath(input, "/account", base)).toBe("/account");
  });

  it("keeps the result on APP_URL's origin whatever it resolves to", () => {
    for (const input of ["/..//evil.example", "/./\u2028/evil", "/@evil.example", "/:evil"]) {
      const result = safeCallbackPath(input, "/account", base);
      expect(new URL(result, base).origin).toBe(base);
      expect(result.startsWith("/") && !result.startsWith("//")).toBe(true);
    }
  });
});
