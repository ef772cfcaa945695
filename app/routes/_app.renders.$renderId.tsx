import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { FrameGrid } from "~/components/frame-grid";
import { FrameCountsText, FrameProgressBar } from "~/components/progress-bar";
import { RenderActions } from "~/components/render-actions";
import { RenderFacts, RenderWorkers } from "~/components/render-details";
import { RenderFailures } from "~/components/render-failures";
import { useLiveRender } from "~/components/render-live";
import { RenderStatusBadge } from "~/components/render-status";
import { Card, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, notFoundPage, pageId, problemAsFormError } from "~/lib/form.server";
import { Problem } from "~/lib/problem.server";
import { listRenderFailures } from "~/models/render-failures.server";
import { listFrames } from "~/models/render-frames.server";
import { changeRender, requireRender, type RenderChange } from "~/models/render.server";

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
  const [render, frames, failures] = await orNotFound(Promise.all([requireRender(where), listFrames(where), listRenderFailures(where)]));
  return { render, frames, failures };
}

const CHANGES: readonly string[] = ["cancel", "pause", "resume"] satisfies RenderChange[];

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
  const { render: loaded, frames, failures } = useLoaderData<typeof loader>();
  const render = useLiveRender(loaded, { reloadOnProgress: true });
  return (
    <>
      <Link to="/renders" className="mb-1 inline-block text-sm text-stone-500 hover:text-stone-800">
        ← Renders
      </Link>
      <PageTitle action={<RenderStatusBadge status={render.status} />}>Render {render.id}</PageTitle>
      <p className="-mt-3 mb-4 text-sm text-stone-600">
        <Link to={`/projects/${render.projectId}`} className="font-medium break-all text-cactus-700 underline underline-offset-4">
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
        <RenderActions render={render} />
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Details</h2>
        <RenderFacts render={render} />
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Workers</h2>
        <RenderWorkers render={render} />
      </Card>
      <RenderFailures list={failures} />
      <h2 className="mt-6 font-semibold">Frames</h2>
      <p className="mb-2 text-sm text-stone-500">Tap a rendered frame to download it.</p>
      <FrameGrid renderId={render.id} frames={frames} format={render.format} />
    </>
  );
}
