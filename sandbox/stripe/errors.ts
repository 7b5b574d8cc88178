// Errors in Stripe's wire shape, so the `stripe` client raises the same error classes it raises against the real API.
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { error: Record<string, string | null> } {
    return { error: { type: this.type, code: this.code, message: this.message, param: this.param, ...this.extra } };
  }
}

export const unknownParameter = (param: string) =>
  new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${param}`, param);

export const missingParameter = (param: string) =>
  new StripeApiError(400, "invalid_request_error", "parameter_missing", `Missing required param: ${param}.`, param);

export const invalidParameter = (param: string, message: string) =>
  new StripeApiError(400, "invalid_request_error", "parameter_invalid", message, param);

export const invalidRequest = (message: string, param: string | null = null) =>
  new StripeApiError(400, "invalid_request_error", null, message, param);

export const resourceMissing = (kind: string, id: string, param = "id") =>
  new StripeApiError(404, "invalid_request_error", "resource_missing", `No such ${kind}: '${id}'`, param);

export const cardDeclined = (declineCode: string, message = "Your card was declined.") =>
  new StripeApiError(402, "card_error", "card_declined", message, null, { decline_code: declineCode });

export const unauthorized = () =>
  new StripeApiError(
    401,
    "invalid_request_error",
    "api_key_invalid",
    "Invalid API Key provided. The Stripe sandbox accepts any secret key that starts with sk_test_.",
  );
