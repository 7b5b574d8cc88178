import Link from "next/link";
import { SessionNav } from "./session-nav";

function HourglassIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" className="h-6 w-6 shrink-0 text-brand-600" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M6 2h12M6 22h12M7 2v3a5 5 0 0 0 2.5 4.3L12 11l2.5-1.7A5 5 0 0 0 17 5V2M7 22v-3a5 5 0 0 1 2.5-4.3L12 13l2.5 1.7A5 5 0 0 1 17 19v3" />
    </svg>
  );
}

// Static markup so every page that can be prerendered stays prerendered; the session part loads in the browser.
export function SiteHeader() {
  return (
    <header className="relative border-b border-stone-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-5xl items-center gap-4 px-4 py-3 sm:gap-6 sm:px-6">
        <Link href="/" className="flex shrink-0 items-center gap-2 text-lg font-bold tracking-tight">
          <HourglassIcon /> Hourglass
        </Link>
        <SessionNav />
      </nav>
    </header>
  );
}
