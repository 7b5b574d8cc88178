import { describe, expect, it } from "vitest";
import { describeChatModel, getChatModel } from "@/server/chat/models";

const none = { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, CHAT_MODEL: undefined, DEMO_MODEL_DELAY_MS: 0 };

describe("getChatModel", () => {
  it("uses OpenAI Chat Completions when a key is set", () => {
    const model = getChatModel({ ...none, OPENAI_API_KEY: "sk-test" });
    if (typeof model === "string") throw new Error("expected a model object");
    expect(model.provider).toBe("openai.chat");
    expect(model.modelId).toBe("gpt-4o-mini");
    expect(describeChatModel({ ...none, OPENAI_API_KEY: "sk-test", CHAT_MODEL: "gpt-4.1" })).toBe("OpenAI gpt-4.1");
  });

  it("uses an OpenAI-compatible server when only a base URL is set", () => {
    const current = { ...none, OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" };
    const model = getChatModel(current);
    if (typeof model === "string") throw new Error("expected a model object");
    expect(model.provider).toBe("local.chat");
    expect(model.modelId).toBe("llama3.2");
    expect(describeChatModel(current)).toBe("llama3.2 (OpenAI-compatible server at 127.0.0.1:11434)");
  });

  it("falls back to the offline demo model", () => {
    const model = getChatModel(none);
    if (typeof model === "string") throw new Error("expected a model object");
    expect(model.provider).toBe("hourglass-demo");
    expect(describeChatModel(none)).toBe("Demo model (offline)");
  });
});
