import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { LiveNotice } from "~/components/live-notice";
import { RenderCard } from "~/components/render-card";
import { useLiveRenders } from "~/components/render-live";
import { PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { listRenders } from "~/models/render.server";

export const meta: MetaFunction = () => [{ title: "Renders · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { renders: await listRenders(user.id) };
}

export default function RendersPage() {
  const { renders: loaded } = useLoaderData<typeof loader>();
  // One event stream for the whole list: every render stays live, and new ones appear.
  const { renders, connection } = useLiveRenders(loaded);
  return (
    <>
      <PageTitle>Renders</PageTitle>
      <LiveNotice connection={connection} />
      {renders.length === 0 ? (
        <div className="mt-6 rounded-xl border border-dashed border-stone-300 p-6 text-center text-stone-600">
          <p className="font-semibold text-stone-800">No renders yet</p>
          <p className="mt-1">
            Open a{" "}
            <Link to="/projects" className="font-semibold text-cactus-700 underline underline-offset-4">
              project
            </Link>
            , upload a .blend and press Render… on it. Its progress shows here, live.
          </p>
        </div>
      ) : (
        <ul className="flex flex-col gap-3" aria-label="Your renders">
          {renders.map((render) => (
            <RenderCard key={render.id} render={render} />
          ))}
        </ul>
      )}
    </>
  );
}
