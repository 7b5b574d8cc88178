import { z } from "zod";
import { formatDate } from "@/lib/format";
import { EmailLayout, Paragraph } from "./layout";

export const subscriptionEndingProps = z.object({
  planName: z.string(),
  /** "scheduled": it ends on endsAt; "ended": it has ended. */
  kind: z.enum(["scheduled", "ended"]),
  endsAt: z.iso.datetime().nullable(),
  pricingUrl: z.url(),
  accountUrl: z.url(),
});
export type SubscriptionEndingProps = z.infer<typeof subscriptionEndingProps>;

export const subscriptionEndingSubject = (props: SubscriptionEndingProps) =>
  props.kind === "ended" ? `Your Hourglass ${props.planName} plan has ended` : `Your Hourglass ${props.planName} plan is canceled`;

export function SubscriptionEnding({ planName, kind, endsAt, pricingUrl, accountUrl }: SubscriptionEndingProps) {
  if (kind === "ended") {
    return (
      <EmailLayout preview={`Your ${planName} plan has ended`} heading={`Your ${planName} plan has ended`} action={{ label: "See plans", url: pricingUrl }}>
        <Paragraph>Your subscription is canceled and your account is back on the free tier. Your account and its data stay.</Paragraph>
        <Paragraph>Come back any time from the pricing page.</Paragraph>
      </EmailLayout>
    );
  }
  return (
    <EmailLayout preview={`Your ${planName} plan ends${endsAt ? ` on ${formatDate(endsAt)}` : ""}`} heading="Your plan is canceled"
      action={{ label: "Keep my plan", url: accountUrl }}>
      <Paragraph>
        Your {planName} plan will not renew. You keep everything it includes until {endsAt ? formatDate(endsAt) : "the end of the period"}.
      </Paragraph>
      <Paragraph>Changed your mind? Renew it from your account before then.</Paragraph>
    </EmailLayout>
  );
}
