import { z } from "zod";
import { EmailLayout, Paragraph } from "./layout";

export const verifyEmailProps = z.object({ url: z.url(), expiresInHours: z.number() });
export type VerifyEmailProps = z.infer<typeof verifyEmailProps>;

export const verifyEmailSubject = () => "Confirm your email address";

export function VerifyEmail({ url, expiresInHours }: VerifyEmailProps) {
  return (
    <EmailLayout preview="Confirm your email to start a plan and chat" heading="Confirm your email address" action={{ label: "Confirm email", url }}
      footer="If you did not create a Hourglass account, ignore this email.">
      <Paragraph>Thanks for signing up. Confirm that this address is yours to subscribe to a plan and use the chat.</Paragraph>
      <Paragraph>The link works once and expires in {expiresInHours} hours.</Paragraph>
    </EmailLayout>
  );
}
