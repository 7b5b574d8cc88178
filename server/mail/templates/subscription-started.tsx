import { z } from "zod";
import { formatDate } from "@/lib/format";
import { EmailLayout, Paragraph } from "./layout";

export const subscriptionStartedProps = z.object({
  planName: z.string(),
  /** e.g. "$9.00 / month" */
  amount: z.string(),
  nextRenewal: z.iso.datetime().nullable(),
  trialEndsAt: z.iso.datetime().nullable(),
  invoiceUrl: z.url().nullable(),
  accountUrl: z.url(),
});
export type SubscriptionStartedProps = z.infer<typeof subscriptionStartedProps>;

export const subscriptionStartedSubject = (props: SubscriptionStartedProps) => `Welcome to Hourglass ${props.planName}`;

export function SubscriptionStarted({ planName, amount, nextRenewal, trialEndsAt, invoiceUrl, accountUrl }: SubscriptionStartedProps) {
  return (
    <EmailLayout preview={`Your ${planName} plan is active`} heading={`Your ${planName} plan is active`}
      action={invoiceUrl ? { label: "View invoice", url: invoiceUrl } : { label: "Open your account", url: accountUrl }}>
      <Paragraph>Thank you for subscribing. Here is what you signed up for:</Paragraph>
      <Paragraph>
        Plan: {planName}
        <br />
        Price: {amount}
        <br />
        {trialEndsAt ? `Free trial until ${formatDate(trialEndsAt)}` : null}
        {trialEndsAt ? <br /> : null}
        {nextRenewal ? `Next renewal: ${formatDate(nextRenewal)}` : null}
      </Paragraph>
      <Paragraph>You can change or cancel your plan at any time from your account: {accountUrl}</Paragraph>
    </EmailLayout>
  );
}
