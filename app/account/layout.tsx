import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/lib/trpc/react";

// React Query lives in the layouts of the pages that query and mutate through it (/account, /chat), not in the
// root layout, so prerendered pages like /pricing don't download a query cache they never use.
export default function AccountLayout({ children }: { children: ReactNode }) {
  return <TRPCReactProvider>{children}</TRPCReactProvider>;
}
