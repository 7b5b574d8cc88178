import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/lib/trpc/react";

// See app/account/layout.tsx: the query provider only where it is used.
export default function ChatLayout({ children }: { children: ReactNode }) {
  return <TRPCReactProvider>{children}</TRPCReactProvider>;
}
