import { Form, useActionData, useNavigation } from "@remix-run/react";
import { useEffect, useState } from "react";
import type { ExpectedStartDto, RenderDto, RenderEstimateDto, RenderWorkersDto } from "../../contract";
import { describeExpectedStart } from "../../domain/work-ahead";
import { formatCredits, formatWu } from "../../domain/work-units";
import { Button, Card } from "./ui";

// A render's price (its priority), its escrow and the workers on it with the owner's
// switch for each (docs/design.md §4, §5): the render page's "Price and workers" card.

type ActionAnswer = { ok?: boolean; fieldErrors?: Record<string, string>; formError?: string } | undefined;

/** How long the price field waits for the typing to stop before it asks what would be ahead. */
const WHAT_IF_DELAY_MS = 400;

/**
 * The expected start at the price typed in the field before it is set (GET
 * …/estimate?price=P); the render's own while the field holds its price.
 */
function useExpectedStartAt(render: RenderDto, own: ExpectedStartDto | null, typed: string): ExpectedStartDto | null {
  const [asked, setAsked] = useState<{ price: string; start: ExpectedStartDto | null }>();
  const price = Number(typed);
  const other = typed !== "" && Number.isFinite(price) && price >= 0 && price !== render.price;
  useEffect(() => {
    if (!other) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      fetch(`/api/v1/renders/${render.id}/estimate?price=${encodeURIComponent(typed)}`, { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(async (response) => (response.ok ? setAsked({ price: typed, start: ((await response.json()) as RenderEstimateDto).expectedStart }) : undefined))
        // Offline or refused: the line keeps what it said; setting the price still works.
        .catch(() => undefined);
    }, WHAT_IF_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [other, typed, render.id]);
  if (!other) return own;
  return asked?.price === typed ? asked.start : null;
}

export function RenderEconomy({ render, workers, estimate }: { render: RenderDto; workers: RenderWorkersDto; estimate: RenderEstimateDto }) {
  const [typedPrice, setTypedPrice] = useState(String(render.price));
  const expectedStart = useExpectedStartAt(render, estimate.expectedStart, typedPrice);
  const answer = useActionData<ActionAnswer>();
  const busy = useNavigation().state !== "idle";
  const finished = ["done", "cancelled", "failed"].includes(render.status);
  const error = answer?.formError ?? answer?.fieldErrors?.price ?? answer?.fieldErrors?.credits;
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Price and workers</h2>
      <p className="mb-3 text-sm text-stone-600">
        {formatCredits(render.price)} credits per WU · {formatCredits(render.escrow)} in escrow. The highest price goes first on
        other people's workers; your own pay nothing.
      </p>
      {render.status === "needs-credits" ? (
        <p role="status" className="mb-3 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Its escrow cannot pay for the next frame: top it up or lower the price.
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="mb-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {error}
        </p>
      ) : null}
      {finished ? null : (
        <div className="flex flex-wrap gap-2">
          <Form method="post" className="flex items-end gap-2">
            <input type="hidden" name="intent" value="price" />
            <label className="flex flex-col gap-1 text-sm font-medium text-stone-700">
              Price per WU
              <input
                name="price"
                type="number"
                min="0"
                step="0.01"
                defaultValue={render.price}
                onChange={(event) => setTypedPrice(event.currentTarget.value)}
                aria-describedby="expected-start-at-price"
                className="w-24 rounded-lg border border-stone-300 px-3 py-2 text-base"
              />
            </label>
            <Button variant="secondary" disabled={busy}>
              Set price
            </Button>
          </Form>
          <p id="expected-start-at-price" aria-live="polite" className="w-full text-sm text-stone-600" data-testid="expected-start-at-price">
            {expectedStart ? describeExpectedStart(expectedStart) : "Counting what would be ahead at that price…"}
          </p>
          <Form method="post" className="flex items-end gap-2">
            <input type="hidden" name="intent" value="top-up" />
            <label className="flex flex-col gap-1 text-sm font-medium text-stone-700">
              Credits
              <input name="credits" type="number" min="0.01" step="0.01" defaultValue={10} className="w-20 rounded-lg border border-stone-300 px-3 py-2 text-base" />
            </label>
            <Button variant="secondary" disabled={busy}>
              Top up
            </Button>
          </Form>
        </div>
      )}
      <Form method="post" className="mt-3">
        <input type="hidden" name="intent" value="only-enabled" />
        <input type="hidden" name="onlyEnabledWorkers" value={workers.onlyEnabledWorkers ? "false" : "true"} />
        <p className="text-sm text-stone-700">
          {workers.onlyEnabledWorkers
            ? "Only workers you switch on render it."
            : "Your workers, and other people's once they accept it, render it unless you switch them off."}{" "}
          <button type="submit" className="font-medium text-cactus-700 underline underline-offset-4" disabled={busy}>
            {workers.onlyEnabledWorkers ? "Let every accepting worker" : "Only workers I enable"}
          </button>
        </p>
      </Form>
      {workers.workers.length === 0 ? (
        <p className="mt-3 text-sm text-stone-500">No worker may render it yet: add one of yours, or wait for someone to accept it.</p>
      ) : (
        <ul className="mt-3 divide-y divide-stone-100">
          {workers.workers.map((worker) => (
            <li key={worker.id} className="flex items-center justify-between gap-3 py-2">
              <div className="min-w-0">
                <p className="truncate font-medium">{worker.name}</p>
                <p className="text-xs text-stone-500">
                  {worker.mine ? "yours" : worker.owner} · {worker.wupm === null ? "no WUPM yet" : `${worker.wupm.toFixed(1)} WUPM`} ·{" "}
                  {worker.frames} frames · {formatWu(worker.wu)} WU
                </p>
              </div>
              <Form method="post">
                <input type="hidden" name="intent" value="switch-worker" />
                <input type="hidden" name="workerId" value={worker.id} />
                <input type="hidden" name="allowed" value={worker.allowed ? "false" : "true"} />
                <button
                  type="submit"
                  role="switch"
                  aria-checked={worker.allowed}
                  aria-label={`${worker.name} on this render`}
                  disabled={busy}
                  className={`relative h-7 w-12 shrink-0 rounded-full transition-colors ${worker.allowed ? "bg-cactus-600" : "bg-stone-300"}`}
                >
                  <span className={`absolute top-0.5 h-6 w-6 rounded-full bg-white shadow transition-all ${worker.allowed ? "left-5.5" : "left-0.5"}`} />
                </button>
              </Form>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
