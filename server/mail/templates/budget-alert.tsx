import { z } from "zod";
import { formatDate } from "@/lib/format";
import { EmailLayout, Paragraph } from "./layout";

export const budgetAlertProps = z.object({
  percentUsed: z.union([z.literal(80), z.literal(100)]),
  tokenBudget: z.number(),
  resetsAt: z.iso.datetime(),
  upgradeUrl: z.url(),
  settingsUrl: z.url(),
});
export type BudgetAlertProps = z.infer<typeof budgetAlertProps>;

export const budgetAlertSubject = (props: BudgetAlertProps) =>
  props.percentUsed === 100 ? "You have used all your chat tokens" : "You have used 80% of your chat tokens";

export function BudgetAlert({ percentUsed, tokenBudget, resetsAt, upgradeUrl, settingsUrl }: BudgetAlertProps) {
  return (
    <EmailLayout
      preview={`${percentUsed}% of this period's chat tokens used`}
      heading={percentUsed === 100 ? "Your chat budget is used up" : "80% of your chat budget is used"}
      action={{ label: "Upgrade your plan", url: upgradeUrl }}
      footer={`You get this email because budget alerts are on. Turn them off in your account: ${settingsUrl}`}
    >
      <Paragraph>
        {percentUsed === 100
          ? `You have used all ${tokenBudget.toLocaleString("en-US")} tokens of this period's budget; the chat is paused until it resets.`
          : `You have used 80% of this period's ${tokenBudget.toLocaleString("en-US")} tokens.`}
      </Paragraph>
      <Paragraph>Your budget resets on {formatDate(resetsAt)}. Need more before then? Upgrade your plan.</Paragraph>
    </EmailLayout>
  );
}
