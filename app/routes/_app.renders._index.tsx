import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { RenderCard } from "~/components/render-card";
import { PageTitle } from "~/components/ui";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { requireUser } from "~/lib/auth.server";
import { listRenders } from "~/models/render.server";

export const meta: MetaFunction = () => [{ title: "Renders · Cactus" }];

/**
 * Event streams kept open at once. A browser talks HTTP/1.1 to the server with about six
 * connections per site; a stream holds one for good, so the rest of the page (and the
 * next one) keeps some. Renders past these show their progress as loaded.
 */
const LIVE_STREAMS = 3;
/** How often the list reloads when more renders run than get a stream. */
const RELOAD_MS = 10_000;

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { renders: await listRenders(user.id) };
}

export default function RendersPage() {
  const { renders } = useLoaderData<typeof loader>();
  // Newest first, so the streams go to the renders on top: the ones people watch.
  const running = renders.filter((render) => !isRenderFinished(render.status));
  const live = new Set(running.slice(0, LIVE_STREAMS).map((render) => render.id));
  const { revalidate } = useRevalidator();
  const reloads = running.length > LIVE_STREAMS;
  useEffect(() => {
    if (!reloads) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") revalidate();
    }, RELOAD_MS);
    return () => window.clearInterval(timer);
  }, [reloads, revalidate]);
  return (
    <>
      <PageTitle>Renders</PageTitle>
      {renders.length === 0 ? (
        <p className="mt-6 text-center text-stone-500">
          No renders yet. Open a{" "}
          <Link to="/projects" className="font-semibold text-cactus-700 underline underline-offset-4">
            project
          </Link>
          , upload a .blend and press Render on it.
        </p>
      ) : (
        <ul className="flex flex-col gap-3" aria-label="Your renders">
          {renders.map((render) => (
            <RenderCard key={render.id} render={render} live={live.has(render.id)} />
          ))}
        </ul>
      )}
    </>
  );
}
