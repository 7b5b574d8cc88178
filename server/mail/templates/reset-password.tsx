import { z } from "zod";
import { EmailLayout, Paragraph } from "./layout";

export const resetPasswordProps = z.object({ url: z.url(), expiresInMinutes: z.number() });
export type ResetPasswordProps = z.infer<typeof resetPasswordProps>;

export const resetPasswordSubject = () => "Reset your Hourglass password";

export function ResetPassword({ url, expiresInMinutes }: ResetPasswordProps) {
  return (
    <EmailLayout preview="A link to choose a new password" heading="Reset your password" action={{ label: "Choose a new password", url }}
      footer="If you did not ask for this, ignore this email: your password stays as it is.">
      <Paragraph>Someone (hopefully you) asked to reset the password of this Hourglass account.</Paragraph>
      <Paragraph>The link works once and expires in {expiresInMinutes} minutes. Setting a new password signs you out everywhere else.</Paragraph>
    </EmailLayout>
  );
}
