// Every email Hourglass sends, as data: a template name maps to its props schema, its subject and its React
// component. Adding an email is a new row here and a component beside it. `npm run mail:preview` renders them all.
import { createElement, type FunctionComponent, type ReactElement } from "react";
import type { z } from "zod";
import { BudgetAlert, budgetAlertProps, budgetAlertSubject } from "./budget-alert";
import { PaymentFailed, paymentFailedProps, paymentFailedSubject } from "./payment-failed";
import { ResetPassword, resetPasswordProps, resetPasswordSubject } from "./reset-password";
import { SubscriptionEnding, subscriptionEndingProps, subscriptionEndingSubject } from "./subscription-ending";
import { SubscriptionStarted, subscriptionStartedProps, subscriptionStartedSubject } from "./subscription-started";
import { TrialEnding, trialEndingProps, trialEndingSubject } from "./trial-ending";
import { VerifyEmail, verifyEmailProps, verifyEmailSubject } from "./verify-email";

interface TemplateDef<S extends z.ZodType> {
  props: S;
  subject(props: z.infer<S>): string;
  element(props: z.infer<S>): ReactElement;
}

const define = <S extends z.ZodType<object>>(
  props: S,
  subject: (props: z.infer<S>) => string,
  component: FunctionComponent<z.infer<S>>,
): TemplateDef<S> => ({ props, subject, element: (values) => createElement(component, values) });

export const emailTemplates = {
  "verify-email": define(verifyEmailProps, verifyEmailSubject, VerifyEmail),
  "reset-password": define(resetPasswordProps, resetPasswordSubject, ResetPassword),
  "subscription-started": define(subscriptionStartedProps, subscriptionStartedSubject, SubscriptionStarted),
  "payment-failed": define(paymentFailedProps, paymentFailedSubject, PaymentFailed),
  "trial-ending": define(trialEndingProps, trialEndingSubject, TrialEnding),
  "subscription-ending": define(subscriptionEndingProps, subscriptionEndingSubject, SubscriptionEnding),
  "budget-alert": define(budgetAlertProps, budgetAlertSubject, BudgetAlert),
};

export type EmailTemplateName = keyof typeof emailTemplates;
export type EmailProps<N extends EmailTemplateName> = z.infer<(typeof emailTemplates)[N]["props"]>;

export function isEmailTemplateName(name: string): name is EmailTemplateName {
  return Object.hasOwn(emailTemplates, name);
}

const iso = (offsetDays: number) => new Date(Date.UTC(2026, 11, 1 + offsetDays, 12)).toISOString();
const app = "http://localhost:3000";

/** Example props for each template: the preview script renders these, and tests check every template renders. */
export const sampleEmailProps: { [N in EmailTemplateName]: EmailProps<N> } = {
  "verify-email": { url: `${app}/verify-email?token=example`, expiresInHours: 24 },
  "reset-password": { url: `${app}/reset-password?token=example`, expiresInMinutes: 30 },
  "subscription-started": {
    planName: "Starter",
    amount: "$9.00 / month",
    nextRenewal: iso(31),
    trialEndsAt: null,
    invoiceUrl: "https://invoice.stripe.com/i/example",
    accountUrl: `${app}/account`,
  },
  "payment-failed": {
    planName: "Starter",
    amountDue: "$9.00",
    invoiceUrl: "https://invoice.stripe.com/i/example",
    accessEndsAt: iso(8),
    accountUrl: `${app}/account`,
  },
  "trial-ending": { planName: "Pro", trialEndsAt: iso(3), amount: "$29.00 / month", accountUrl: `${app}/account` },
  "subscription-ending": { planName: "Starter", kind: "scheduled", endsAt: iso(20), pricingUrl: `${app}/pricing`, accountUrl: `${app}/account` },
  "budget-alert": { percentUsed: 80, tokenBudget: 1_000_000, resetsAt: iso(20), upgradeUrl: `${app}/pricing`, settingsUrl: `${app}/account` },
};
