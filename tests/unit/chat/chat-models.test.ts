import { describe, expect, it } from "vitest";
import { chargeFor, chatModels, isChatModelId, outputTokensWithin, upperBoundFor } from "@/lib/chat-models";
import { plans } from "@/server/billing/plans";

describe("the chat model catalogue", () => {
  it("gives every model finite positive weights and keeps the default model at 1/1/1 (the seed's charge)", () => {
    for (const model of Object.values(chatModels)) {
      for (const weight of Object.values(model.weights)) expect(Number.isFinite(weight) && weight > 0).toBe(true);
    }
    expect(chatModels.small.weights).toEqual({ input: 1, output: 1, cachedInput: 1 });
  });

  it("lets plans include only catalogued models: Free none, Starter the small one, Pro small and large", () => {
    expect(plans.free.models).toEqual([]);
    expect(plans.starter.models).toEqual(["small"]);
    expect(plans.pro.models).toEqual(["small", "large"]);
  });

  it("knows its own ids and nothing inherited", () => {
    expect(isChatModelId("large")).toBe(true);
    for (const id of ["toString", "constructor", "__proto__", "", "LARGE"]) expect(isChatModelId(id)).toBe(false);
  });
});

describe("chargeFor", () => {
  const large = chatModels.large.weights;

  it("charges input x w_in + output x w_out + cached x w_cached, rounded up", () => {
    expect(chargeFor(large, { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 })).toBe(60 * 4 + 40 * 2 + 10 * 16);
    expect(chargeFor({ input: 0.3, output: 1.1, cachedInput: 0.1 }, { inputTokens: 3, outputTokens: 1, cachedInputTokens: 0 })).toBe(2);
    expect(chargeFor({ input: 0.1, output: 0.2, cachedInput: 0.1 }, { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 })).toBe(1);
  });

  it("charges 1/1/1 exactly the tokens used, whatever the float sums", () => {
    const one = chatModels.small.weights;
    expect(chargeFor(one, { inputTokens: 17, outputTokens: 23, cachedInputTokens: 5 })).toBe(40);
    expect(chargeFor({ input: 0.1, output: 0.2, cachedInput: 0.1 }, { inputTokens: 10, outputTokens: 10, cachedInputTokens: 0 })).toBe(3);
  });

  it("never counts cached tokens beyond the input, nor negative or non-finite figures", () => {
    expect(chargeFor(large, { inputTokens: 10, outputTokens: 0, cachedInputTokens: 50 })).toBe(20);
    expect(chargeFor(large, { inputTokens: -5, outputTokens: Number.NaN, cachedInputTokens: Infinity })).toBe(0);
  });
});

describe("upperBoundFor and outputTokensWithin", () => {
  it("bounds an answer by the prompt at the dearer input weight and the whole output cap", () => {
    expect(upperBoundFor(chatModels.large.weights, 100, 1024)).toBe(400 + 1024 * 16);
    expect(upperBoundFor({ input: 1, output: 2, cachedInput: 3 }, 10, 5)).toBe(40);
  });

  it("fits the output into what a grant leaves, and gives 0 when the prompt alone does not fit", () => {
    expect(outputTokensWithin(chatModels.large.weights, 400 + 16 * 10 + 15, 100)).toBe(10);
    expect(outputTokensWithin(chatModels.large.weights, 399, 100)).toBe(0);
    const w = chatModels.large.weights;
    const grant = upperBoundFor(w, 100, 1024);
    expect(outputTokensWithin(w, grant, 100)).toBe(1024);
  });
});
