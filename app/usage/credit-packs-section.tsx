import { formatDate, formatPriceCents, formatTokens } from "@/lib/format";
import type { CreditPackPurchase } from "@/server/billing/credit-packs";

const statusWords: Record<CreditPackPurchase["status"], string> = {
  active: "Active",
  used: "Used up",
  expired: "Expired",
  refunded: "Refunded",
};

/** The credit packs bought, newest first: price, tokens, what is left and until when. */
export function CreditPacksSection({ packs }: { packs: CreditPackPurchase[] }) {
  return (
    <section className="card" aria-labelledby="credit-packs" data-testid="usage-credit-packs">
      <h2 id="credit-packs" className="text-lg font-semibold">Credit packs</h2>
      <p className="mt-1 text-sm text-stone-600">
        Tokens bought once, spent after each period&apos;s budget (oldest pack first) while your plan is active. A refunded
        pack loses what is left of it.
      </p>
      {packs.length === 0 ? (
        <p className="mt-3 text-sm text-stone-600">No credit packs bought yet. Chat offers one when your budget runs out.</p>
      ) : (
        <div className="mt-3 overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Credit packs bought, with the tokens left and their expiry</caption>
            <thead className="text-stone-500">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">Bought</th>
                <th scope="col" className="py-1 pr-3 font-medium">Pack</th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">Left</th>
                <th scope="col" className="py-1 pr-3 font-medium">Expires</th>
                <th scope="col" className="py-1 font-medium">Status</th>
              </tr>
            </thead>
            <tbody>
              {packs.map((pack) => (
                <tr key={pack.paymentIntentId} className="border-t border-stone-100" data-testid="credit-pack-row">
                  <td className="py-1 pr-3 whitespace-nowrap">{formatDate(pack.purchasedAt)}</td>
                  <td className="py-1 pr-3">
                    {formatTokens(pack.tokens)} tokens, {formatPriceCents(pack.amountCents)}
                  </td>
                  <td className="py-1 pr-3 text-right tabular-nums" data-testid="credit-pack-left">
                    {pack.tokensLeft === null ? "—" : formatTokens(pack.tokensLeft)}
                  </td>
                  <td className="py-1 pr-3 whitespace-nowrap">{formatDate(pack.expiresAt)}</td>
                  <td className="py-1">{statusWords[pack.status]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
