// The address a trial is remembered by: one mailbox, however it is written.
import { describe, expect, it } from "vitest";
import { normalizedEmail } from "@/db/queries/trial-claims";

describe("normalizedEmail", () => {
  it("lowercases, trims and drops a +tag, keeping everything else", () => {
    expect(normalizedEmail("  Ada.Lovelace+trial2@Example.COM ")).toBe("ada.lovelace@example.com");
    expect(normalizedEmail("ada+a+b@example.com")).toBe("ada@example.com");
    expect(normalizedEmail("ada@example.com")).toBe("ada@example.com");
    // A local part that is only a tag is kept whole rather than emptied.
    expect(normalizedEmail("+x@example.com")).toBe("+x@example.com");
    expect(normalizedEmail("first.last@example.com")).not.toBe(normalizedEmail("firstlast@example.com"));
  });
});
