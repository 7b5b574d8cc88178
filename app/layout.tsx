import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { PaymentDueBanner } from "./_components/payment-due-banner";
import { SiteHeader } from "./_components/site-header";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Hourglass", template: "%s · Hourglass" },
  description: "A Next.js SaaS starter with Stripe billing you can trust and a metered AI chat.",
};

export const viewport: Viewport = { themeColor: "#ffffff" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <SiteHeader />
        <PaymentDueBanner />
        <main className="mx-auto w-full max-w-5xl px-4 py-10 sm:px-6">{children}</main>
      </body>
    </html>
  );
}
