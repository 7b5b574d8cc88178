// Billing meters (create, retrieve, list) and meter events (create). An event's `identifier` is unique over a rolling
// 24 hours: a retry with the same identifier is refused and counts once. Stripe validates most of an event after
// accepting it (and reports errors on the meter); the sandbox refuses the same mistakes at once, with the error codes
// Stripe's meter error reports use, so a test sees them.
import type Stripe from "stripe";
import { StripeApiError, invalidParameter, missingParameter } from "../errors";
import { meteredUsage } from "../metered";
import { meterEventObject, meterObject } from "../objects";
import { allowOnly, int, obj, requireStr, str } from "../params";
import { checkEach, object, oneOf, string } from "../schema";
import { newId, realNow, type SandboxState } from "../state";
import { LIST_PARAMS, listOf, stringRecord, throwMissing, type RouteContext } from "./router";

const DAY = 24 * 3600;
/** Stripe takes events timestamped within the past 35 days and up to 5 minutes ahead. */
const OLDEST_EVENT = 35 * DAY;
const FUTURE_SLACK = 5 * 60;

const METER_PARAMS = {
  default_aggregation: object({ formula: oneOf("count", "last", "sum") }, ["formula"]),
  customer_mapping: object({ event_payload_key: string, type: oneOf("by_id") }, ["event_payload_key", "type"]),
  value_settings: object({ event_payload_key: string }, ["event_payload_key"]),
  event_time_window: oneOf("day", "hour"),
  status: oneOf("active", "inactive"),
};

const meterEventError = (code: string, message: string, param: string | null = "payload") =>
  new StripeApiError(400, "invalid_request_error", code, message, param);

export function billingMeterRoutes({ engine, route }: RouteContext): void {
  const meters = (): Record<string, Stripe.Billing.Meter> => (engine.state.meters ??= {});

  route("POST", "/v1/billing/meters", ({ params }) => {
    allowOnly(params, ["default_aggregation", "display_name", "event_name", "customer_mapping", "event_time_window", "value_settings"]);
    checkEach(params, METER_PARAMS);
    const aggregation = obj(params, "default_aggregation");
    if (!aggregation) throw missingParameter("default_aggregation");
    const displayName = requireStr(params, "display_name");
    const eventName = requireStr(params, "event_name");
    if (eventName.length > 100) throw invalidParameter("event_name", "Invalid event_name: must be at most 100 characters");
    if (Object.values(meters()).some((m) => m.event_name === eventName && m.status === "active")) {
      throw invalidParameter("event_name", `An active meter with event_name \`${eventName}\` already exists.`);
    }
    const mapping = obj(params, "customer_mapping");
    const value = obj(params, "value_settings");
    const meter = meterObject({
      displayName,
      eventName,
      formula: requireStr(aggregation, "formula", "default_aggregation[formula]"),
      customerPayloadKey: (mapping && str(mapping, "event_payload_key")) ?? "stripe_customer_id",
      valuePayloadKey: (value && str(value, "event_payload_key")) ?? "value",
      eventTimeWindow: str(params, "event_time_window") ?? null,
      now: realNow(),
    });
    meters()[meter.id] = meter;
    return meter;
  });
  route("GET", "/v1/billing/meters/:id", (_req, id) => meters()[id] ?? throwMissing("billing.meter", id));
  route("GET", "/v1/billing/meters", ({ params }) => {
    allowOnly(params, [...LIST_PARAMS, "status"]);
    checkEach(params, { status: METER_PARAMS.status });
    const status = str(params, "status");
    return listOf(Object.values(meters()).filter((m) => !status || m.status === status), params, "/v1/billing/meters");
  });

  // The meter's aggregate for one customer over [start_time, end_time), as one summary (no value_grouping_window).
  route("GET", "/v1/billing/meters/:id/event_summaries", ({ params }, id) => {
    allowOnly(params, [...LIST_PARAMS, "customer", "start_time", "end_time", "value_grouping_window"]);
    const meter = meters()[id] ?? throwMissing("billing.meter", id);
    const customer = requireStr(params, "customer");
    const start = int(params, "start_time");
    const end = int(params, "end_time");
    if (start === undefined) throw missingParameter("start_time");
    if (end === undefined) throw missingParameter("end_time");
    if (end <= start) throw invalidParameter("end_time", "end_time must be after start_time.");
    if (params.value_grouping_window !== undefined) throw invalidParameter("value_grouping_window", "The Stripe sandbox sums over the whole range (no value_grouping_window).");
    const summary: Stripe.Billing.MeterEventSummary = {
      id: newId("mtrusg_test", 24),
      object: "billing.meter_event_summary",
      aggregated_value: meteredUsage(engine.state, meter.id, customer, start, end),
      end_time: end,
      livemode: false,
      meter: meter.id,
      start_time: start,
    };
    return { object: "list", data: [summary], has_more: false, url: `/v1/billing/meters/${meter.id}/event_summaries` };
  });

  route("POST", "/v1/billing/meter_events", ({ params }) => {
    allowOnly(params, ["event_name", "payload", "identifier", "timestamp"]);
    const eventName = requireStr(params, "event_name");
    if (!obj(params, "payload")) throw missingParameter("payload");
    const payload = stringRecord(params, "payload");
    const meter = Object.values(meters()).find((m) => m.event_name === eventName && m.status === "active");
    if (!meter) throw meterEventError("no_meter", `No active meter was found for event_name \`${eventName}\`.`, "event_name");
    const customer = readCustomer(engine.state, meter, payload);
    const value = readValue(meter, payload);
    const now = engine.nowForCustomer(customer);
    const timestamp = int(params, "timestamp") ?? now;
    if (timestamp < now - OLDEST_EVENT) throw meterEventError("timestamp_too_far_in_past", "The timestamp must be within the past 35 calendar days.", "timestamp");
    if (timestamp > now + FUTURE_SLACK) throw meterEventError("timestamp_in_future", "The timestamp must not be more than 5 minutes in the future.", "timestamp");
    const identifier = str(params, "identifier") || newId("mevt", 24);
    const events = (engine.state.meterEvents ??= []);
    // Uniqueness holds for a rolling 24 hours of real time, as on Stripe; after that an identifier may come back.
    const received = realNow();
    if (events.some((e) => e.event.identifier === identifier && e.event.created > received - DAY)) {
      throw new StripeApiError(400, "invalid_request_error", "resource_already_exists", `A meter event with identifier \`${identifier}\` already exists.`, "identifier");
    }
    const event = meterEventObject({ eventName, identifier, payload, timestamp, now: received });
    events.push({ event, meter: meter.id, customer, value });
    return event;
  });
}

function readCustomer(state: SandboxState, meter: Stripe.Billing.Meter, payload: Record<string, string>): string {
  const key = meter.customer_mapping.event_payload_key;
  const customer = payload[key];
  if (!customer) throw meterEventError("meter_event_no_customer_defined", `Missing customer mapping key \`${key}\` in payload.`, `payload[${key}]`);
  if (!state.customers[customer]) throw meterEventError("meter_event_customer_not_found", `No such customer: '${customer}'`, `payload[${key}]`);
  return customer;
}

/** A meter's value: a whole number for Stripe's sum meters (a count meter needs none). */
function readValue(meter: Stripe.Billing.Meter, payload: Record<string, string>): number {
  const key = meter.value_settings.event_payload_key;
  const raw = payload[key];
  if (raw === undefined) {
    if (meter.default_aggregation.formula === "count") return 1;
    throw meterEventError("meter_event_invalid_value", `Missing value key \`${key}\` in payload.`, `payload[${key}]`);
  }
  if (!/^-?\d+(\.\d+)?$/.test(raw)) throw meterEventError("meter_event_invalid_value", `Invalid value \`${raw}\` for \`${key}\`: must be a number.`, `payload[${key}]`);
  return Number(raw);
}
