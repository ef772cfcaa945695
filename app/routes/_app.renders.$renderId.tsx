import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { FrameGrid } from "~/components/frame-grid";
import { FrameCountsText, FrameProgressBar } from "~/components/progress-bar";
import { RenderActions } from "~/components/render-actions";
import { LiveNotice } from "~/components/live-notice";
import { QuoteCard } from "~/components/quote-card";
import { PriceExplained, RenderFacts, RenderScene, RenderWorkers } from "~/components/render-details";
import { RenderFailures } from "~/components/render-failures";
import { useLiveEstimate, useLiveRender } from "~/components/render-live";
import { RenderStatusBadge } from "~/components/render-status";
import { Card, Notes, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, notFoundPage, pageId, problemAsFormError } from "~/lib/form.server";
import { Problem } from "~/lib/problem.server";
import { listRenderFailures } from "~/models/render-failures.server";
import { listFrames } from "~/models/render-frames.server";
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
  const [render, failures, estimate] = await orNotFound(
    Promise.all([requireRender(where), listRenderFailures(where), getRenderEstimate(where)]),
  );
  // A page of the frames (?page=N, or the page of ?frame=N), never all of a long render.
  const range = { start: render.frameStart, end: render.frameEnd, step: render.frameStep };
  const query = new URL(request.url).searchParams;
  const page = framePage(range, pageOfFrame(range, Number(query.get("frame"))) ?? Number(query.get("page")));
  const frames = await listFrames({ ...where, window: page.frames });
  return { render, frames, failures, page, estimate };
}

const CHANGES: readonly string[] = ["cancel", "pause", "resume", "confirm"] satisfies RenderChange[];

export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const id = pageId(params.renderId, "render");
  const intent = formIntent(await request.formData());
  if (!CHANGES.includes(intent)) return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
  try {
    await changeRender({ id, userId: user.id, change: intent as RenderChange });
    return { ok: true as const };
  } catch (error) {
    // 409: the render moved on meanwhile (cancelled elsewhere, finished); the message says how.
    return problemAsFormError(error);
  }
}

export default function RenderPage() {
  const { render: loaded, frames: loadedFrames, failures, page, estimate: loadedEstimate } = useLoaderData<typeof loader>();
  const { render, frames, connection } = useLiveRender(loaded, loadedFrames, formatFrameRange(page.frames));
  const estimate = useLiveEstimate(render, loadedEstimate);
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
