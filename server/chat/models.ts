// Chooses the chat model from the environment: OPENAI_API_KEY -> OpenAI Chat Completions, OPENAI_BASE_URL alone ->
// an OpenAI-compatible server (Ollama, llama.cpp, vLLM) with streamed usage on, neither -> the offline demo model.
// Every choice reports token usage, which the budget settles against. Which model of the catalogue (lib/chat-models)
// answers picks the provider's model name; CHAT_MODEL, when set, names the default model's.
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { chatModels, DEFAULT_CHAT_MODEL_ID, type ChatModelId } from "@/lib/chat-models";
import { env, type Env } from "@/lib/env";
import { createDemoModel } from "./demo-model";

type ModelEnv = Pick<Env, "OPENAI_API_KEY" | "OPENAI_BASE_URL" | "CHAT_MODEL" | "DEMO_MODEL_DELAY_MS">;

export const DEFAULT_OPENAI_MODEL = chatModels[DEFAULT_CHAT_MODEL_ID].providerModel.openai;
export const DEFAULT_COMPATIBLE_MODEL = chatModels[DEFAULT_CHAT_MODEL_ID].providerModel.compatible;

type ChatModelChoice =
  | { kind: "openai"; apiKey: string; baseURL: string | undefined; modelId: string }
  | { kind: "openai-compatible"; baseURL: string; modelId: string }
  | { kind: "demo"; delayMs: number };

function chooseChatModel(current: ModelEnv, id: ChatModelId): ChatModelChoice {
  const names = chatModels[id].providerModel;
  const override = id === DEFAULT_CHAT_MODEL_ID ? current.CHAT_MODEL : undefined;
  if (current.OPENAI_API_KEY) {
    return { kind: "openai", apiKey: current.OPENAI_API_KEY, baseURL: current.OPENAI_BASE_URL, modelId: override ?? names.openai };
  }
  if (current.OPENAI_BASE_URL) {
    return { kind: "openai-compatible", baseURL: current.OPENAI_BASE_URL, modelId: override ?? names.compatible };
  }
  return { kind: "demo", delayMs: current.DEMO_MODEL_DELAY_MS };
}

export function getChatModel(current: ModelEnv = env, id: ChatModelId = DEFAULT_CHAT_MODEL_ID): LanguageModelV3 {
  const choice = chooseChatModel(current, id);
  switch (choice.kind) {
    case "openai":
      // `.chat()` is Chat Completions, which every OpenAI-compatible proxy also speaks; the default is the Responses API.
      return createOpenAI({ apiKey: choice.apiKey, baseURL: choice.baseURL }).chat(choice.modelId);
    case "openai-compatible":
      // Without includeUsage the server streams no usage, and the budget could only charge the full reservation.
      return createOpenAICompatible({ name: "local", baseURL: choice.baseURL, includeUsage: true })(choice.modelId);
    case "demo":
      return createDemoModel({ delayMs: choice.delayMs });
  }
}

/** A short label for pages: which model answers, without secrets. */
export function describeChatModel(current: ModelEnv = env, id: ChatModelId = DEFAULT_CHAT_MODEL_ID): string {
  const choice = chooseChatModel(current, id);
  switch (choice.kind) {
    case "openai":
      return choice.baseURL ? `OpenAI ${choice.modelId} (via ${new URL(choice.baseURL).host})` : `OpenAI ${choice.modelId}`;
    case "openai-compatible":
      return `${choice.modelId} (OpenAI-compatible server at ${new URL(choice.baseURL).host})`;
    case "demo":
      return "Demo model (offline)";
  }
}
