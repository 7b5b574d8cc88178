import Link from "next/link";

const promises = [
  {
    title: "Billing that survives real Stripe",
    body: "Signed webhooks recorded by event id, every handler re-reads the subscription from Stripe, so retries, duplicates and any delivery order converge on the truth.",
  },
  {
    title: "A chat budget that cannot be overspent",
    body: "Each answer reserves tokens atomically before the model runs and settles the real usage after. Out of tokens means a clear 429, never a free ride.",
  },
  {
    title: "Runs with nothing but Node",
    body: "Embedded Postgres, a local Stripe sandbox with hosted Checkout and Portal, an in-process budget store and a demo model. Set real keys to switch each one over.",
  },
];

export default function HomePage() {
  return (
    <div className="space-y-16">
      <section className="pt-6 text-center">
        <p className="text-sm font-semibold uppercase tracking-widest text-brand-700">Open-source SaaS starter</p>
        <h1 className="mx-auto mt-3 max-w-3xl text-4xl font-bold tracking-tight sm:text-5xl">
          Launch a paid AI product on billing you can prove.
        </h1>
        <p className="mx-auto mt-5 max-w-2xl text-lg text-stone-600">
          Hourglass is a Next.js starter with Stripe subscriptions, webhook-driven state in Postgres and a metered AI
          chat with a per-user token budget, tested end to end from a fresh clone.
        </p>
        <div className="mt-8 flex flex-col justify-center gap-3 sm:flex-row">
          <Link href="/pricing" className="btn-primary px-6 py-3 text-base">See pricing</Link>
          <Link href="/sign-up" className="btn-secondary px-6 py-3 text-base">Create an account</Link>
        </div>
      </section>
      <section aria-label="What sets Hourglass apart" className="grid gap-4 sm:grid-cols-3">
        {promises.map((promise) => (
          <article key={promise.title} className="card">
            <h2 className="font-semibold">{promise.title}</h2>
            <p className="mt-2 text-sm text-stone-600">{promise.body}</p>
          </article>
        ))}
      </section>
    </div>
  );
}
