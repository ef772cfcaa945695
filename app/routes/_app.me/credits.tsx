import { Link } from "@remix-run/react";
import type { CreditsDto } from "../../../contract";
import { formatCredits } from "../../../domain/work-units";
import { Card } from "~/components/ui";

const REASONS: Record<CreditsDto["entries"][number]["reason"], string> = {
  grant: "Granted",
  escrow: "Into escrow",
  release: "Back from escrow",
  payment: "Payment",
};

/** The ledger as its owner reads it: newest first, + in and − out. */
export function CreditsSection({ credits }: { credits: CreditsDto }) {
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Ledger</h2>
      <p className="mb-3 text-sm text-stone-600">
        {formatCredits(credits.escrow)} credits are in escrow for your renders; what is left comes back when each ends.
      </p>
      {credits.entries.length === 0 ? (
        <p className="text-sm text-stone-500">No credits have moved yet.</p>
      ) : (
        <ul className="divide-y divide-stone-100" aria-label="Ledger">
          {credits.entries.slice(0, 30).map((entry, index) => (
            <li key={`${entry.at}-${index}`} className="flex items-center justify-between gap-3 py-2 text-sm">
              <span className="min-w-0">
                <span className="block font-medium">
                  {entry.reason === "payment" && entry.amount > 0 ? "Earned" : REASONS[entry.reason]}
                  {entry.render_id !== null ? (
                    <>
                      {" · "}
                      <Link to={`/renders/${entry.render_id}`} className="text-cactus-700 underline underline-offset-4">
                        render {entry.render_id}
                      </Link>
                    </>
                  ) : null}
                </span>
                <span className="block text-xs text-stone-500">{new Date(entry.at).toLocaleString("en-GB", { timeZone: "UTC" })} UTC</span>
              </span>
              <span className={`font-semibold tabular-nums ${entry.amount >= 0 ? "text-cactus-700" : "text-stone-700"}`}>
                {entry.amount >= 0 ? "+" : "−"}
                {formatCredits(Math.abs(entry.amount))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
