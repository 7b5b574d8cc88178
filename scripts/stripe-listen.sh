#!/usr/bin/env bash
# `npm run stripe:listen`: forwards Stripe test-mode webhooks to the local app with the Stripe CLI.
# Only for a real Stripe test account (STRIPE_SECRET_KEY set); the offline sandbox delivers webhooks itself.
# Copy the `whsec_...` secret it prints into STRIPE_WEBHOOK_SECRET and restart `npm run dev`.
set -euo pipefail
if ! command -v stripe >/dev/null 2>&1; then
  echo "The Stripe CLI is not installed: https://docs.stripe.com/stripe-cli" >&2
  echo "Without it, the local sandbox (no STRIPE_SECRET_KEY) delivers webhooks to the app on its own." >&2
  exit 1
fi
exec stripe listen --forward-to "${APP_URL:-http://localhost:3000}/api/webhooks/stripe" \
  --events checkout.session.completed,customer.subscription.created,customer.subscription.updated,customer.subscription.deleted,customer.subscription.trial_will_end,invoice.paid,invoice.payment_succeeded,invoice.payment_failed,test_helpers.test_clock.ready,checkout.session.async_payment_succeeded,charge.refunded,charge.dispute.created
