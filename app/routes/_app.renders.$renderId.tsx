import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { z } from "zod";
import { FrameGrid } from "~/components/frame-grid";
import { FrameCountsText, FrameProgressBar } from "~/components/progress-bar";
import { RenderActions } from "~/components/render-actions";
import { LiveNotice } from "~/components/live-notice";
import { QuoteCard } from "~/components/quote-card";
import { PriceExplained, RenderFacts, RenderScene, RenderWorkers } from "~/components/render-details";
import { RenderEconomy } from "~/components/render-economy";
import { RenderFailures } from "~/components/render-failures";
import { useLiveEstimate, useLiveRender, useLiveRenderWorkers } from "~/components/render-live";
import { RenderStatusBadge } from "~/components/render-status";
import { Card, Notes, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, notFoundPage, pageId, parseForm, problemAsFormError } from "~/lib/form.server";
import { Problem } from "~/lib/problem.server";
import { listRenderFailures } from "~/models/render-failures.server";
import { listFrames } from "~/models/render-frames.server";
import { changeRenderSettings, topUpRender } from "~/models/render-credits.server";
import { listRenderWorkers, switchRenderWorker } from "~/models/render-workers.server";
import { changeRender, getRenderEstimate, requireRender, type RenderChange } from "~/models/render.server";
import { formatFrameRange, framePage, pageOfFrame } from "../../domain/frames";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Render ${data.render.id} · ${data.render.archiveFilename} · Cactus` : "Render · Cactus" },
];

/** Another user's render is as absent as one that never existed: the same 404 page. */
async function orNotFound<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (error) {
    if (error instanceof Problem && error.code === "not_found") throw notFoundPage("render");
    throw error;
  }
}

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const where = { id: pageId(params.renderId, "render"), userId: user.id };
  const [render, failures, estimate, workers] = await orNotFound(
    Promise.all([requireRender(where), listRenderFailures(where), getRenderEstimate(where), listRenderWorkers(where)]),
  );
  // A page of the frames (?page=N, or the page of ?frame=N), never all of a long render.
  const range = { start: render.frameStart, end: render.frameEnd, step: render.frameStep };
  const query = new URL(request.url).searchParams;
  const page = framePage(range, pageOfFrame(range, Number(query.get("frame"))) ?? Number(query.get("page")));
  const frames = await listFrames({ ...where, window: page.frames });
  return { render, frames, failures, page, estimate, workers };
}

const CHANGES: readonly string[] = ["cancel", "pause", "resume", "confirm"] satisfies RenderChange[];

const priceForm = z.object({ price: z.coerce.number().min(0, "A price is 0 or more credits per WU.").max(1_000_000) });
const topUpForm = z.object({ credits: z.coerce.number().positive("Top up by more than 0 credits.").max(1_000_000_000) });
const switchForm = z.object({ workerId: z.coerce.number().int().positive(), allowed: z.enum(["true", "false"]) });
const onlyEnabledForm = z.object({ onlyEnabledWorkers: z.enum(["true", "false"]) });

/** The price, the top-up and the workers' switches (components/render-economy.tsx). */
async function economyAction(intent: string, formData: FormData, where: { id: number; userId: number }) {
  if (intent === "price") {
    const form = parseForm(priceForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    await changeRenderSettings({ ...where, price: form.data.price });
  } else if (intent === "top-up") {
    const form = parseForm(topUpForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    await topUpRender({ ...where, credits: form.data.credits });
  } else if (intent === "switch-worker") {
    const form = parseForm(switchForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    await switchRenderWorker({ ...where, workerId: form.data.workerId, allowed: form.data.allowed === "true" });
  } else {
    const form = parseForm(onlyEnabledForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    await changeRenderSettings({ ...where, onlyEnabledWorkers: form.data.onlyEnabledWorkers === "true" });
  }
  return { ok: true as const };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const id = pageId(params.renderId, "render");
  const formData = await request.formData();
  const intent = formIntent(formData);
  const economy = ["price", "top-up", "switch-worker", "only-enabled"].includes(intent);
  if (!CHANGES.includes(intent) && !economy) return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
  try {
    if (economy) return await economyAction(intent, formData, { id, userId: user.id });
    await changeRender({ id, userId: user.id, change: intent as RenderChange });
    return { ok: true as const };
  } catch (error) {
    // 409: the render moved on meanwhile (cancelled elsewhere, finished); the message says how.
    return problemAsFormError(error);
  }
}

export default function RenderPage() {
  const { render: loaded, frames: loadedFrames, failures, page, estimate: loadedEstimate, workers: loadedWorkers } = useLoaderData<typeof loader>();
  const { render, frames, connection } = useLiveRender(loaded, loadedFrames, formatFrameRange(page.frames));
  const estimate = useLiveEstimate(render, loadedEstimate);
  const workers = useLiveRenderWorkers(render, loadedWorkers);
  useReloadOnFailure(render);
  return (
    <>
      <Link to="/renders" className="-ml-2 mb-1 inline-flex min-h-11 items-center px-2 text-sm text-stone-600 hover:text-stone-900">
        ← Renders
      </Link>
      <LiveNotice connection={connection} />
      <PageTitle action={<RenderStatusBadge status={render.status} />}>Render {render.id}</PageTitle>
      <p className="-mt-3 mb-4 text-sm text-stone-600">
        <Link
          to={`/projects/${render.projectId}`}
          className="inline-flex min-h-11 items-center font-medium break-all text-cactus-700 underline underline-offset-4"
        >
          {render.archiveFilename}
        </Link>
      </p>
      <Card>
        <FrameProgressBar frames={render.frames} label="Frames done" />
        <p className="mt-2 text-sm text-stone-700" aria-live="polite">
          <FrameCountsText frames={render.frames} />
        </p>
        {render.failure ? (
          <p role="alert" className="mt-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 wrap-anywhere">
            {render.failure}
          </p>
        ) : null}
        {render.waiting ? (
          <p role="status" className="mt-3 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900 wrap-anywhere">
            {render.waiting}
          </p>
        ) : null}
        <div className="mt-3 empty:hidden">
          <Notes kind="warning" title="Rendered, but maybe not as meant:" items={render.warnings} />
        </div>
        <RenderActions render={render} />
      </Card>
      <QuoteCard render={render} estimate={estimate} />
      <RenderEconomy render={render} workers={workers} estimate={estimate} />
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Details</h2>
        <RenderFacts render={render} />
        <PriceExplained />
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Scene</h2>
        <RenderScene render={render} />
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Workers</h2>
        <RenderWorkers render={render} />
      </Card>
      <RenderFailures list={failures} />
      <h2 className="mt-6 font-semibold">Frames</h2>
      <p className="mb-2 text-sm text-stone-600">Tap a rendered frame to see it full size and download it.</p>
      <FrameGrid renderId={render.id} frames={frames} format={render.format} page={page} />
    </>
  );
}

/** The failures list comes with the page's data: reload it when the render says a new failure happened. */
function useReloadOnFailure(render: { status: string; failure: string | null }) {
  const { revalidate } = useRevalidator();
  const seen = useRef(`${render.status}|${render.failure}`);
  const key = `${render.status}|${render.failure}`;
  useEffect(() => {
    if (seen.current === key) return;
    seen.current = key;
    revalidate();
  }, [key, revalidate]);
}
