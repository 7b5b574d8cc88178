// Makes every way a model server can fail end as an error part of the model's stream, which the AI SDK turns into
// streamText's onError (the reservation is settled) and a clean error chunk for the page. Without it, a connection
// dropped mid-answer errors the stream itself: the user's response breaks ("failed to pipe response") and no
// callback settles the budget. A model that stays silent longer than `silenceTimeoutMs` (before its first token, or
// between two) is cut off the same way. The caller's own abort (the user left) is passed through untouched, so
// streamText still reports it as an abort.
import type { LanguageModelV3, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { wrapLanguageModel } from "ai";

/** The model sent nothing for too long; the request to it was aborted. */
export class ModelSilentError extends Error {
  constructor(silenceTimeoutMs: number) {
    super(`The model sent nothing for ${silenceTimeoutMs} ms; the request was aborted.`);
    this.name = "ModelSilentError";
  }
}

/** The model was never called: the condition it waited for (`startWhen`) said no. */
export class ModelNotStartedError extends Error {
  constructor() {
    super("The answer was not started.");
    this.name = "ModelNotStartedError";
  }
}

/**
 * `startWhen`: the model is called only once it resolves true (false: never, with ModelNotStartedError), so work the
 * answer depends on can run while the AI SDK sets the stream up, without the model seeing a request that is refused.
 */
export function guardModelStream(model: LanguageModelV3, options: { silenceTimeoutMs: number; startWhen?: Promise<boolean> }): LanguageModelV3 {
  const { silenceTimeoutMs, startWhen } = options;
  return wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: "v3",
      async wrapStream({ params, model: inner }) {
        if (startWhen && !(await startWhen)) throw new ModelNotStartedError();
        const caller = params.abortSignal;
        const silence = new AbortController();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => silence.abort(new ModelSilentError(silenceTimeoutMs)), silenceTimeoutMs);
        };
        const disarm = () => clearTimeout(timer);
        const timedOut = () => silence.signal.aborted && !caller?.aborted;

        arm();
        let result: Awaited<ReturnType<LanguageModelV3["doStream"]>>;
        try {
          result = await inner.doStream({
            ...params,
            abortSignal: caller ? AbortSignal.any([caller, silence.signal]) : silence.signal,
          });
        } catch (error) {
          disarm();
          throw timedOut() ? new ModelSilentError(silenceTimeoutMs) : error;
        }
        disarm();

        const reader = result.stream.getReader();
        const stream = new ReadableStream<LanguageModelV3StreamPart>({
          async pull(controller) {
            // Only time spent waiting on the model counts: a slow reader downstream is not a silent model.
            arm();
            try {
              const next = await reader.read();
              disarm();
              if (next.done) controller.close();
              else controller.enqueue(next.value);
            } catch (error) {
              disarm();
              if (caller?.aborted) {
                controller.error(error);
                return;
              }
              controller.enqueue({ type: "error", error: timedOut() ? new ModelSilentError(silenceTimeoutMs) : error });
              controller.close();
            }
          },
          async cancel(reason) {
            disarm();
            await reader.cancel(reason);
          },
        });
        return { ...result, stream };
      },
    },
  });
}
