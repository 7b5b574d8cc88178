// The frame every Hourglass email shares: a preview line, a heading, the body, one call to action and a footer.
// React Email turns it into table-based HTML mail clients render, and the plain-text part comes from the same tree.
import { Body, Button, Container, Head, Heading, Hr, Html, Preview, Section, Text } from "@react-email/components";
import type { ReactNode } from "react";

export interface EmailLayoutProps {
  preview: string;
  heading: string;
  children: ReactNode;
  action?: { label: string; url: string };
  footer?: string;
}

const colors = { text: "#1f2937", muted: "#6b7280", accent: "#4f46e5", border: "#e5e7eb" };

export function EmailLayout({ preview, heading, children, action, footer }: EmailLayoutProps) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={{ backgroundColor: "#f9fafb", fontFamily: "system-ui, -apple-system, Segoe UI, sans-serif", color: colors.text }}>
        <Container style={{ backgroundColor: "#ffffff", border: `1px solid ${colors.border}`, borderRadius: 8, padding: 32, maxWidth: 520 }}>
          <Text style={{ fontWeight: 700, fontSize: 14, color: colors.accent, margin: 0 }}>⏳ Hourglass</Text>
          <Heading as="h1" style={{ fontSize: 22, margin: "16px 0" }}>
            {heading}
          </Heading>
          {children}
          {action ? (
            <Section style={{ margin: "24px 0" }}>
              <Button
                href={action.url}
                style={{ backgroundColor: colors.accent, color: "#ffffff", borderRadius: 6, padding: "10px 18px", fontWeight: 600 }}
              >
                {action.label}
              </Button>
              <Text style={{ fontSize: 12, color: colors.muted }}>
                Or open this link: {action.url}
              </Text>
            </Section>
          ) : null}
          <Hr style={{ borderColor: colors.border }} />
          <Text style={{ fontSize: 12, color: colors.muted }}>{footer ?? "You received this email because you have a Hourglass account."}</Text>
        </Container>
      </Body>
    </Html>
  );
}

export function Paragraph({ children }: { children: ReactNode }) {
  return <Text style={{ fontSize: 15, lineHeight: "24px" }}>{children}</Text>;
}
