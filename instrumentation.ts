// Runs once when a server starts. The check needs Node (it stops the process), so the Edge build of this hook
// is empty: NEXT_RUNTIME is a build-time constant Next.js sets per runtime, not configuration (see lib/env.ts).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { refuseEmbeddedServicesInProduction } = await import("./server/startup-check");
    refuseEmbeddedServicesInProduction();
    // Traces (webhooks, Stripe calls, budget operations, chats, and Next's own spans) go to
    // OTEL_EXPORTER_OTLP_ENDPOINT when it is set; nothing is installed otherwise.
    const { env } = await import("./lib/env");
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
      // Loaded only when used: the SDK and its exporter add a second or so to a cold start.
      const { startTracing } = await import("./server/ops/tracing");
      startTracing();
    }
    // Sends the email outbox (verification, reset, billing and budget emails) for `next dev` and `next start` alike.
    const { startEmailDeliverer } = await import("./server/mail/deliverer");
    startEmailDeliverer();
    // Sends the overage meter events to Stripe (BILLING_OVERAGE=1), after the answers that used them.
    if (env.BILLING_OVERAGE) {
      const { startMeterEventDeliverer } = await import("./server/billing/meter-events");
      startMeterEventDeliverer();
    }
  }
}
