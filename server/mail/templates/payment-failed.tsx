import { z } from "zod";
import { formatDate } from "@/lib/format";
import { EmailLayout, Paragraph } from "./layout";

export const paymentFailedProps = z.object({
  planName: z.string(),
  amountDue: z.string().nullable(),
  invoiceUrl: z.url().nullable(),
  accessEndsAt: z.iso.datetime().nullable(),
  accountUrl: z.url(),
});
export type PaymentFailedProps = z.infer<typeof paymentFailedProps>;

export const paymentFailedSubject = () => "Your Hourglass payment failed";

export function PaymentFailed({ planName, amountDue, invoiceUrl, accessEndsAt, accountUrl }: PaymentFailedProps) {
  return (
    <EmailLayout preview="Update your card to keep your plan" heading="We could not take your payment"
      action={{ label: invoiceUrl ? "Pay the invoice" : "Update your card", url: invoiceUrl ?? accountUrl }}>
      <Paragraph>
        The payment{amountDue ? ` of ${amountDue}` : ""} for your {planName} plan did not go through. We will try again over the next
        few days.
      </Paragraph>
      <Paragraph>
        {accessEndsAt
          ? `Unless it is paid, your access ends on ${formatDate(accessEndsAt)}.`
          : "Unless it is paid, your access will end."}{" "}
        You can pay the invoice or change your card from your account: {accountUrl}
      </Paragraph>
    </EmailLayout>
  );
}
