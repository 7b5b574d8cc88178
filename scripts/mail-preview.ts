// `npm run mail:preview`: renders every email template with its sample props into DATA_DIR/mail-preview/ (HTML and
// plain text, plus an index.html linking them), to look at in a browser while editing server/mail/templates/.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { env } from "../lib/env";
import { renderEmail } from "../server/mail/render-email";
import { emailTemplates, sampleEmailProps, type EmailTemplateName } from "../server/mail/templates";

const outDir = path.resolve(env.DATA_DIR, "mail-preview");
await mkdir(outDir, { recursive: true });
const links: string[] = [];
for (const name of Object.keys(emailTemplates) as EmailTemplateName[]) {
  const email = await renderEmail(name, sampleEmailProps[name]);
  await writeFile(path.join(outDir, `${name}.html`), email.html);
  await writeFile(path.join(outDir, `${name}.txt`), `Subject: ${email.subject}\n\n${email.text}\n`);
  links.push(`<li><a href="${name}.html">${name}</a> (<a href="${name}.txt">text</a>): ${email.subject}</li>`);
}
await writeFile(path.join(outDir, "index.html"), `<!doctype html><meta charset="utf-8"><title>Email previews</title><h1>Email previews</h1><ul>${links.join("")}</ul>`);
console.log(`Rendered ${links.length} emails into ${outDir}/index.html`);
