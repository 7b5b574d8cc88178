import type { Metadata } from "next";
import Link from "next/link";
import { formatPriceCents } from "@/lib/format";
import { getServerCaller } from "@/server/api/context";
import { getSessionUserId } from "@/server/auth";
import type { BillingStatus } from "@/server/billing/billing-status";
import { paidPlans, plans, type Plan, type PlanId } from "@/server/billing/plans";
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

type SearchParams = Promise<{ checkout?: string | string[] }>;

export default async function PricingPage({ searchParams }: { searchParams: SearchParams }) {
  const [viewer, params] = await Promise.all([readViewer(), searchParams]);
  const cards: Plan[] = Object.values(plans);
  return (
    <div className="space-y-8">
      <header className="text-center">
        <h1 className="text-3xl font-bold tracking-tight">Pricing</h1>
        <p className="mt-2 text-stone-600">Monthly plans. Change or cancel any time from the billing portal.</p>
      </header>
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
              <p className="mt-4">
                <span className="text-3xl font-bold">{formatPriceCents(plan.amountCents)}</span>
                <span className="text-stone-600"> / month</span>
              </p>
              <ul className="mt-4 flex-1 space-y-1 text-sm text-stone-700">
                {plan.features.map((feature) => (
                  <li key={feature}>
                    <span aria-hidden="true" className="text-brand-600">✓</span> {feature}
                  </li>
                ))}
              </ul>
              <div className="mt-6">
                <PlanAction viewer={viewer} plan={plan} recommended={recommended} />
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
function PlanAction({ viewer, plan, recommended }: { viewer: Viewer; plan: Plan; recommended: boolean }) {
  if (viewer.kind === "unknown") return null;
  if (viewer.kind === "visitor") {
    const href = plan.amountCents === 0 ? "/sign-up" : `/sign-up?callbackUrl=${encodeURIComponent("/pricing")}`;
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
    return paid ? <SubscribeButton planId={paid.id} planName={paid.name} primary={recommended} /> : currentPlan;
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
