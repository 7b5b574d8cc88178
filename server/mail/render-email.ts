// Turns a template name and its (stored, so untrusted) props into a subject, HTML and a plain-text part.
import { render } from "@react-email/render";
import { emailTemplates, isEmailTemplateName } from "./templates";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export async function renderEmail(template: string, props: unknown): Promise<RenderedEmail> {
  if (!isEmailTemplateName(template)) throw new Error(`unknown email template "${template}"`);
  const def = emailTemplates[template];
  const parsed = def.props.safeParse(props);
  if (!parsed.success) throw new Error(`invalid props for email template "${template}": ${parsed.error.message}`);
  // Each row's schema, subject and component agree (see `define`); TypeScript cannot follow the union here.
  const values = parsed.data as never;
  const element = def.element(values);
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { subject: def.subject(values), html, text };
}
