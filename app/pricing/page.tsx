import type { Metadata } from "next";
import Link from "next/link";
import { formatPriceCents } from "@/lib/format";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import type { BillingStatus } from "@/server/billing/billing-status";
import { paidPlans, plans, trialOffered, type BillingInterval, type Plan, type PlanId } from "@/server/billing/plans";
import { ManageBillingButton } from "../_components/manage-billing-button";
import { SubscribeButton } from "./plan-action";

export const metadata: Metadata = { title: "Pricing" };

/** The plan the page marks and gives the filled button to visitors and free users. */
const RECOMMENDED_PLAN: PlanId = "pro";

type Viewer = { kind: "visitor" } | { kind: "member"; billing: BillingStatus } | { kind: "unknown" };

/** Who is looking, read on the server so every card renders its real action at once (no placeholder). */
async function readViewer(): Promise<Viewer> {
  const userId = await getSessionUserId();
  if (!userId) return { kind: "visitor" };
  try {
    const billing = await (await getServerCaller()).billing.status();
    return billing ? { kind: "member", billing } : { kind: "visitor" };
  } catch (error) {
    // The session points at an account that is gone: a visitor now. Anything else: show the plans, say why no buttons.
    if (error instanceof Error && "code" in error && error.code === "UNAUTHORIZED") return { kind: "visitor" };
    console.error(`pricing: billing status unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return { kind: "unknown" };
  }
}

type SearchParams = Promise<{ checkout?: string | string[]; interval?: string | string[] }>;

/** `?interval=yearly` shows the yearly prices; anything else, the monthly ones (a link, so no script and no flash). */
const intervalFrom = (value: string | string[] | undefined): BillingInterval => (value === "yearly" ? "year" : "month");

export default async function PricingPage({ searchParams }: { searchParams: SearchParams }) {
  const [viewer, params] = await Promise.all([readViewer(), searchParams]);
  const interval = intervalFrom(params.interval);
  const cards: Plan[] = Object.values(plans);
  // A trial is for a first subscription only: visitors and members whose address never had one.
  const newCustomer = viewer.kind === "visitor" || (viewer.kind === "member" && viewer.billing.trialAvailable);
  return (
    <div className="space-y-8">
      <header className="text-center">
        <h1 className="text-3xl font-bold tracking-tight">Pricing</h1>
        <p className="mt-2 text-stone-600">Pay monthly, or yearly for two months free. Change or cancel any time from the billing portal.</p>
      </header>
      <IntervalSwitch interval={interval} />
      {params.checkout === "canceled" ? (
        <p role="status" className="rounded-lg border border-stone-200 bg-white px-4 py-3 text-center text-sm text-stone-700">
          Checkout was canceled. You have not been charged.
        </p>
      ) : null}
      {viewer.kind === "unknown" ? (
        <p role="alert" className="rounded-lg border border-amber-300 bg-amber-50 px-4 py-3 text-center text-sm text-amber-900">
          Your plan can&apos;t be read right now. Reload this page in a moment to subscribe or manage billing.
        </p>
      ) : null}
      <div className="grid gap-4 md:grid-cols-3 md:items-stretch">
        {cards.map((plan) => {
          const recommended = plan.id === RECOMMENDED_PLAN;
          return (
            <section
              key={plan.id}
              className={`card relative flex flex-col ${recommended ? "border-brand-500 ring-1 ring-brand-500" : ""}`}
              aria-labelledby={`plan-${plan.id}`}
              data-testid={`plan-${plan.id}`}
            >
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h2 id={`plan-${plan.id}`} className="text-lg font-semibold">{plan.name}</h2>
                {recommended ? (
                  <span className="rounded-full bg-brand-100 px-2.5 py-0.5 text-xs font-semibold text-brand-800" data-testid="recommended">Recommended</span>
                ) : null}
              </div>
              <p className="mt-1 text-sm text-stone-600">{plan.description}</p>
              <PlanPrice plan={plan} interval={interval} />
              {newCustomer && trialOffered(plan) ? (
                <p className="mt-2 text-sm font-semibold text-brand-800" data-testid="trial">{plan.trialDays}-day free trial</p>
              ) : null}
              <ul className="mt-4 flex-1 space-y-1 text-sm text-stone-700">
                {plan.features.map((feature) => (
                  <li key={feature}>
                    <span aria-hidden="true" className="text-brand-600">✓</span> {feature}
                  </li>
                ))}
              </ul>
              <div className="mt-6">
                <PlanAction viewer={viewer} plan={plan} recommended={recommended} interval={interval} />
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}

/**
 * One action per card: visitors "Get started" (sign up; a paid plan comes back here to subscribe); a free member
 * "Subscribe" to a paid plan; a subscriber "Manage billing" (plan changes and cancellation are in the portal); the
 * member's own plan says "Current plan".
 */
function PlanAction({ viewer, plan, recommended, interval }: { viewer: Viewer; plan: Plan; recommended: boolean; interval: BillingInterval }) {
  if (viewer.kind === "unknown") return null;
  if (viewer.kind === "visitor") {
    const back = interval === "year" ? "/pricing?interval=yearly" : "/pricing";
    const href = plan.amountCents === 0 ? "/sign-up" : `/sign-up?callbackUrl=${encodeURIComponent(back)}`;
    return (
      <Link href={href} className={`${recommended ? "btn-primary" : "btn-secondary"} w-full`} aria-label={`Get started with ${plan.name}`}>
        Get started
      </Link>
    );
  }
  const { billing } = viewer;
  const currentPlan = <p className="btn w-full cursor-default border border-stone-200 bg-stone-50 text-stone-600">Current plan</p>;
  if (!billing.active) {
    const paid = paidPlans.find((candidate) => candidate.id === plan.id);
    return paid ? <SubscribeButton planId={paid.id} planName={paid.name} primary={recommended} interval={interval} /> : currentPlan;
  }
  if (billing.planId === plan.id) {
    return (
      <div className="space-y-2">
        {currentPlan}
        <ManageBillingButton className="btn-secondary w-full" />
      </div>
    );
  }
  if (plan.amountCents === 0) {
    return <p className="text-center text-sm text-stone-600">Cancel in the billing portal to return to Free.</p>;
  }
  return <ManageBillingButton className="btn-secondary w-full" />;
}

/**
 * Monthly or yearly prices: two links (keyboard and screen readers know links; the page renders on the server in the
 * chosen state, so nothing flashes), the current one marked with aria-current.
 */
function IntervalSwitch({ interval }: { interval: BillingInterval }) {
  const option = (value: BillingInterval, href: string, label: string) => {
    const current = interval === value;
    return (
      <Link
        href={href}
        scroll={false}
        aria-current={current ? "true" : undefined}
        className={`rounded-full px-4 py-2 text-sm font-semibold focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 ${
          current ? "bg-stone-900 text-white" : "text-stone-700 hover:bg-stone-100"
        }`}
        data-testid={`interval-${value}`}
      >
        {label}
      </Link>
    );
  };
  return (
    <nav aria-label="Billing interval" className="flex justify-center">
      <div className="inline-flex flex-wrap gap-1 rounded-full border border-stone-200 bg-white p-1">
        {option("month", "/pricing", "Monthly")}
        {option("year", "/pricing?interval=yearly", "Yearly (2 months free)")}
      </div>
    </nav>
  );
}

function PlanPrice({ plan, interval }: { plan: Plan; interval: BillingInterval }) {
  if (interval === "year" && plan.yearlyAmountCents > 0) {
    return (
      <div className="mt-4">
        <p>
          <span className="text-3xl font-bold">{formatPriceCents(plan.yearlyAmountCents)}</span>
          <span className="text-stone-600"> / year</span>
        </p>
        <p className="text-sm text-stone-600">{formatPriceCents(Math.round(plan.yearlyAmountCents / 12))} a month, billed yearly</p>
      </div>
    );
  }
  return (
    <p className="mt-4">
      <span className="text-3xl font-bold">{formatPriceCents(plan.amountCents)}</span>
      <span className="text-stone-600"> / month</span>
    </p>
  );
}
