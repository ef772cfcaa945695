import { useFetcher } from "@remix-run/react";
import type { RenderDto, RenderEstimateDto } from "../../contract";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { formatBand, formatCredits, formatWu, quotedBeside } from "../../domain/work-units";
import { failureOf } from "~/lib/form";
import { confirmLabel, timeRow } from "./quote-text";
import { Button, Card, FormError } from "./ui";
import { WuGraph } from "./wu-graph";

// A render's quote and live estimate (docs/design.md §3): total work units with their
// band, what that costs at its price, when it should be done, and the WU-per-frame graph.
// While quoted, Confirm renders the rest; once confirmed, the quote stays beside the live
// estimate, so the owner sees what they agreed to. What a WU is: the Details card (PriceExplained).

function Headline({ render }: { render: RenderDto }) {
  if (render.status === "estimating") return <>Quote — sampling</>;
  if (render.status === "quoted") return <>Quote</>;
  if (render.status === "done") return <>What it took</>;
  return <>Estimate</>;
}

/** Credits are paid only to other people's workers: the figures are the most it can cost. */
function creditsNote(render: RenderDto, estimate: RenderEstimateDto): string {
  const start = estimate.expectedStart;
  if (start && start.workers > 0 && start.othersWorkers === 0) {
    return "At most: only your own workers would render it now, and they cost nothing.";
  }
  return "At most: what other people's workers render is paid; your own workers cost nothing.";
}

export function QuoteCard({ render, estimate }: { render: RenderDto; estimate: RenderEstimateDto }) {
  const confirm = useFetcher<{ ok: true } | { ok: false; formError: string | null }>();
  const failure = failureOf(confirm.data);
  const summary = render.estimate;
  const { sample } = render;
  if (!summary && sample.frames === 0) return null;
  const band = summary ? formatBand(summary.band) : null;
  const creditsBand = summary ? formatBand(summary.credits, formatCredits) : null;
  const time = summary ? timeRow(render, summary.etaSeconds) : null;
  const quoted = quotedBeside(render.status, estimate.quote, summary);
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold" id="quote-heading">
        <Headline render={render} />
      </h2>
      {sample.frames > 0 && render.status === "estimating" ? (
        <p className="text-sm text-stone-600" data-testid="sample-progress">
          {sample.done} of {sample.frames} sample frames in — spread across the timeline, a run of close frames at each point, so
          each worker&apos;s speed on this scene is measured against the others&apos;.
        </p>
      ) : null}
      {summary ? (
        <dl aria-labelledby="quote-heading" className="mt-2 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm" data-testid="quote">
          <dt className="text-stone-500">Total</dt>
          <dd>
            <span className="text-lg font-semibold">{formatWu(summary.totalWu)} WU</span>
            {band ? <span className="text-stone-600"> ({band})</span> : null}
          </dd>
          {quoted ? (
            <>
              <dt className="text-stone-500">Quoted</dt>
              <dd className="text-stone-600">{quoted}</dd>
            </>
          ) : null}
          <dt className="text-stone-500">Credits</dt>
          <dd>
            {render.price > 0 ? (
              <>
                {formatCredits(summary.credits.mid)}{" "}
                <span className="text-stone-600">
                  {creditsBand ? `(${creditsBand}) ` : ""}at {render.price} a WU
                </span>
                <span className="block text-xs text-stone-500" data-testid="credits-note">
                  {creditsNote(render, estimate)}
                </span>
              </>
            ) : (
              <span className="text-stone-600">none at price 0</span>
            )}
          </dd>
          {isRenderFinished(render.status) || !time ? null : (
            <>
              <dt className="text-stone-500">{time.label}</dt>
              <dd>{time.text}</dd>
            </>
          )}
          <dt className="text-stone-500">From</dt>
          <dd className="text-stone-600">
            {summary.framesMeasured} of {estimate.frames} frames rendered
          </dd>
        </dl>
      ) : null}
      <WuGraph curve={estimate.curve} frameStart={render.frameStart} frameEnd={render.frameEnd} />
      {render.status === "quoted" ? (
        <confirm.Form method="post" className="mt-3 flex flex-col gap-2">
          <Button name="intent" value="confirm" disabled={confirm.state !== "idle"}>
            {confirmLabel(estimate.frames - sample.done)}
          </Button>
          <FormError>{failure?.formError}</FormError>
        </confirm.Form>
      ) : null}
    </Card>
  );
}
