// Reads the pinned `stripe` package's type declarations (node_modules/stripe/cjs/resources/*.d.ts) with the
// TypeScript compiler and checks a JSON value against a declared type: every required field present, no field the
// type does not declare, primitives of the declared kind, string enums without `OtherString` respected, nested
// objects, arrays, unions (expandable `string | Stripe.Customer`, `Customer | DeletedCustomer`) and Stripe.Event's
// per-type members. This is the contract test's oracle; the sandbox itself never loads TypeScript.
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const ENTRY = path.join(ROOT, "sandbox/stripe/tests/__stripe_contract__.ts");

/** `object` value -> the type that describes it (`Stripe.<name>`). */
export const TYPE_OF_OBJECT: Record<string, string> = {
  customer: "Customer",
  subscription: "Subscription",
  subscription_schedule: "SubscriptionSchedule",
  subscription_item: "SubscriptionItem",
  invoice: "Invoice",
  line_item: "InvoiceLineItem",
  price: "Price",
  product: "Product",
  plan: "Plan",
  payment_method: "PaymentMethod",
  "checkout.session": "Checkout.Session",
  item: "LineItem",
  "billing_portal.configuration": "BillingPortal.Configuration",
  "billing_portal.session": "BillingPortal.Session",
  "test_helpers.test_clock": "TestHelpers.TestClock",
  webhook_endpoint: "WebhookEndpoint",
  event: "Event",
  charge: "Charge",
  payment_intent: "PaymentIntent",
  invoice_payment: "InvoicePayment",
  refund: "Refund",
  coupon: "Coupon",
  promotion_code: "PromotionCode",
  discount: "Discount",
  tax_rate: "TaxRate",
  "billing.meter": "Billing.Meter",
  "billing.meter_event": "Billing.MeterEvent",
  "billing.meter_event_summary": "Billing.MeterEventSummary",
};

/** Deleted objects (`{id, object, deleted: true}`) by `object`. */
export const DELETED_TYPE_OF_OBJECT: Record<string, string> = {
  customer: "DeletedCustomer",
  product: "DeletedProduct",
  webhook_endpoint: "DeletedWebhookEndpoint",
  "test_helpers.test_clock": "TestHelpers.DeletedTestClock",
  coupon: "DeletedCoupon",
};

export interface Problem {
  path: string;
  problem: string;
}

export interface StripeTypes {
  check(value: unknown, typeName: string, path: string): Problem[];
  /** Every field (required or optional) the named type declares. */
  fields(typeName: string): { required: string[]; optional: string[] };
}

export function loadStripeTypes(): StripeTypes {
  const names = [...new Set([...Object.values(TYPE_OF_OBJECT), ...Object.values(DELETED_TYPE_OF_OBJECT)])];
  const alias = (name: string) => `T_${name.replaceAll(".", "_")}`;
  const source = `import type Stripe from "stripe";\n${names.map((n) => `export type ${alias(n)} = Stripe.${n};`).join("\n")}\n`;

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) =>
    path.resolve(file) === ENTRY ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === ENTRY || fileExists(file);
  const program = ts.createProgram({ rootNames: [ENTRY], options, host });
  const checker = program.getTypeChecker();
  const entry = program.getSourceFile(ENTRY);
  if (!entry) throw new Error("contract entry not loaded");
  const diagnostics = ts.getPreEmitDiagnostics(program, entry);
  if (diagnostics.length > 0) throw new Error(ts.formatDiagnostics(diagnostics, host));

  const declared = new Map<string, ts.Type>();
  for (const statement of entry.statements) {
    if (ts.isTypeAliasDeclaration(statement)) declared.set(statement.name.text, checker.getTypeAtLocation(statement.name));
  }
  const typeNamed = (name: string): ts.Type => {
    const type = declared.get(alias(name));
    if (!type) throw new Error(`unknown Stripe type ${name}`);
    return type;
  };

  const isNullish = (t: ts.Type) => (t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void)) !== 0;
  const members = (t: ts.Type): ts.Type[] => (t.isUnion() ? t.types : [t]);
  const isDecimal = (t: ts.Type): boolean =>
    t.aliasSymbol?.getName() === "Decimal" || (t.isIntersection() && t.types.some((part) => part.getSymbol()?.getName() === "DecimalImpl"));
  // Stripe.Decimal is what the client turns a decimal into; on the wire it is a string ("1000.5").
  const isStringish = (t: ts.Type): boolean =>
    (t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0 ||
    isDecimal(t) ||
    (t.isIntersection() && t.types.some((part) => (part.flags & ts.TypeFlags.String) !== 0));
  const literal = (t: ts.Type): string | null => (t.isStringLiteral() ? t.value : null);
  const propType = (symbol: ts.Symbol): ts.Type => checker.getNonNullableType(checker.getTypeOfSymbol(symbol));
  const literalOf = (t: ts.Type, key: string): string | null => {
    const prop = t.getProperty(key);
    return prop ? literal(propType(prop)) : null;
  };

  // Under an event's `previous_attributes` Stripe sends only what changed, nested objects included: nothing there
  // is required, but every key must still be a field of the type.
  const partial = (at: string) => at.includes(".previous_attributes");

  function checkObject(value: Record<string, unknown>, type: ts.Type, at: string, out: Problem[]): void {
    const stringIndex = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    const properties = checker.getPropertiesOfType(type);
    if (properties.length === 0 && stringIndex) {
      for (const [key, item] of Object.entries(value)) checkValue(item, stringIndex.type, `${at}.${key}`, out);
      return;
    }
    const known = new Map(properties.map((p) => [p.getName(), p]));
    for (const [name, symbol] of known) {
      const optional = (symbol.flags & ts.SymbolFlags.Optional) !== 0;
      if (!optional && !partial(at) && !(name in value)) out.push({ path: `${at}.${name}`, problem: "required by the types but missing" });
    }
    for (const [key, item] of Object.entries(value)) {
      const symbol = known.get(key);
      if (symbol) checkValue(item, checker.getTypeOfSymbol(symbol), `${at}.${key}`, out);
      else if (stringIndex) checkValue(item, stringIndex.type, `${at}.${key}`, out);
      else out.push({ path: `${at}.${key}`, problem: "not a field of the pinned API's types" });
    }
  }

  function checkValue(value: unknown, type: ts.Type, at: string, out: Problem[]): void {
    if (value === undefined) return;
    if ((type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0) return;
    const options = members(type);
    if (value === null) {
      if (!options.some(isNullish)) out.push({ path: at, problem: `null, but the type is ${checker.typeToString(type)}` });
      return;
    }
    const candidates = options.filter((t) => !isNullish(t));
    if (typeof value === "string") {
      const literals = candidates.map(literal);
      if (candidates.some((t) => isStringish(t) && literal(t) === null)) return;
      if (literals.includes(value)) return;
      out.push({ path: at, problem: `"${value}" is not a ${checker.typeToString(type)}` });
      return;
    }
    if (typeof value === "number") {
      if (!candidates.some((t) => (t.flags & ts.TypeFlags.NumberLike) !== 0)) out.push({ path: at, problem: `number, but the type is ${checker.typeToString(type)}` });
      return;
    }
    if (typeof value === "boolean") {
      if (!candidates.some((t) => (t.flags & ts.TypeFlags.BooleanLike) !== 0)) out.push({ path: at, problem: `boolean, but the type is ${checker.typeToString(type)}` });
      return;
    }
    if (Array.isArray(value)) {
      const array = candidates.find((t) => checker.isArrayType(t) || checker.isTupleType(t));
      if (!array) {
        out.push({ path: at, problem: `array, but the type is ${checker.typeToString(type)}` });
        return;
      }
      const element = checker.getTypeArguments(array as ts.TypeReference)[0];
      if (element) value.forEach((item, i) => checkValue(item, element, `${at}[${i}]`, out));
      return;
    }
    if (typeof value === "object") {
      const record = value as Record<string, unknown>;
      let objects = candidates.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t));
      if (objects.length === 0) {
        out.push({ path: at, problem: `object, but the type is ${checker.typeToString(type)}` });
        return;
      }
      // Narrow unions the way Stripe's discriminators do: `object`, `type`, `deleted`.
      for (const key of ["object", "type"] as const) {
        const wanted = record[key];
        if (typeof wanted !== "string" || objects.length < 2) continue;
        const matching = objects.filter((t) => literalOf(t, key) === wanted);
        if (matching.length > 0) objects = matching;
      }
      if (objects.length > 1) {
        const deleted = record.deleted === true;
        const matching = objects.filter((t) => Boolean(t.getProperty("deleted")) === deleted);
        if (matching.length > 0) objects = matching;
      }
      let best: Problem[] | null = null;
      for (const candidate of objects) {
        const found: Problem[] = [];
        checkObject(record, candidate, at, found);
        if (!best || found.length < best.length) best = found;
        if (found.length === 0) break;
      }
      out.push(...(best ?? []));
    }
  }

  return {
    check(value, typeName, at) {
      const out: Problem[] = [];
      checkValue(value, typeNamed(typeName), at, out);
      return out;
    },
    fields(typeName) {
      const type = members(typeNamed(typeName)).find((t) => !isNullish(t));
      if (!type) throw new Error(`no object type for ${typeName}`);
      const required: string[] = [];
      const optional: string[] = [];
      for (const symbol of checker.getPropertiesOfType(type)) {
        ((symbol.flags & ts.SymbolFlags.Optional) !== 0 ? optional : required).push(symbol.getName());
      }
      return { required, optional };
    },
  };
}
