import { z } from "zod";
import { formatDate } from "@/lib/format";
import { EmailLayout, Paragraph } from "./layout";

export const trialEndingProps = z.object({ planName: z.string(), trialEndsAt: z.iso.datetime(), amount: z.string(), accountUrl: z.url() });
export type TrialEndingProps = z.infer<typeof trialEndingProps>;

export const trialEndingSubject = (props: TrialEndingProps) => `Your Hourglass trial ends on ${formatDate(props.trialEndsAt)}`;

export function TrialEnding({ planName, trialEndsAt, amount, accountUrl }: TrialEndingProps) {
  return (
    <EmailLayout preview="Your free trial ends in 3 days" heading="Your free trial ends soon" action={{ label: "Manage your plan", url: accountUrl }}>
      <Paragraph>
        Your {planName} trial ends on {formatDate(trialEndsAt)}. After that your card is charged {amount} unless you cancel before then.
      </Paragraph>
    </EmailLayout>
  );
}
