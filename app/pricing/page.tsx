import type { Metadata } from "next";
import { Suspense } from "react";
import { formatPriceCents } from "@/lib/format";
import { plans } from "@/server/billing/plans";
import { CheckoutNotice, PlanAction, PricingViewer } from "./plan-action";

export const metadata: Metadata = { title: "Pricing" };

// Static: the plans come from the plans table at build time; each card's button adapts in the browser.
export default function PricingPage() {
  const cards = Object.values(plans);
  return (
    <div className="space-y-8">
      <header className="text-center">
        <h1 className="text-3xl font-bold tracking-tight">Pricing</h1>
        <p className="mt-2 text-stone-600">Monthly plans. Change or cancel any time from the billing portal.</p>
      </header>
      <Suspense fallback={null}>
        <CheckoutNotice />
      </Suspense>
      <PricingViewer>
        <div className="grid gap-4 md:grid-cols-3">
          {cards.map((plan) => (
            <section key={plan.id} className="card flex flex-col" aria-labelledby={`plan-${plan.id}`} data-testid={`plan-${plan.id}`}>
              <h2 id={`plan-${plan.id}`} className="text-lg font-semibold">{plan.name}</h2>
              <p className="mt-1 text-sm text-stone-600">{plan.description}</p>
              <p className="mt-4">
                <span className="text-3xl font-bold">{formatPriceCents(plan.amountCents)}</span>
                <span className="text-stone-500"> / month</span>
              </p>
              <ul className="mt-4 flex-1 space-y-1 text-sm text-stone-700">
                {plan.features.map((feature) => (
                  <li key={feature}>✓ {feature}</li>
                ))}
              </ul>
              <div className="mt-6">
                <PlanAction planId={plan.id} planName={plan.name} />
              </div>
            </section>
          ))}
        </div>
      </PricingViewer>
    </div>
  );
}
