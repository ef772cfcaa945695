import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { fameQuerySchema, type FameDto } from "../../contract";
import { formatDuration, formatWu } from "../../domain/work-units";
import { Card, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { getFame } from "~/models/fame.server";

// The hall of fame (docs/design.md §6): who rendered most for other people, person and
// machine, by WU and by time, all time or the last 30 days; the records.

export const meta: MetaFunction = () => [{ title: "Fame · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request);
  const query = fameQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  return getFame(query.success ? query.data : { period: "all", page: 1 });
}

function Board({ title, rows, value }: { title: string; rows: FameDto["byWu"]; value: (row: FameDto["byWu"][number]) => string }) {
  return (
    <Card className="mb-4">
      <h2 className="mb-2 font-semibold">{title}</h2>
      {rows.length === 0 ? (
        <p className="text-sm text-stone-500">No one has rendered for someone else yet.</p>
      ) : (
        <ol className="divide-y divide-stone-100">
          {rows.map((row) => (
            <li key={`${row.rank}-${row.machine}`} className="flex items-center gap-3 py-2">
              <span className="w-6 text-right text-sm font-semibold text-stone-500">{row.rank}</span>
              <span className="min-w-0 flex-1">
                <span className="block truncate font-medium">{row.person}</span>
                <span className="block truncate text-xs text-stone-500">{row.machine}</span>
              </span>
              <span className="text-sm font-semibold">{value(row)}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

export default function FamePage() {
  const fame = useLoaderData<typeof loader>();
  const tab = (period: FameDto["period"], label: string) => (
    <Link
      to={`?period=${period}`}
      aria-current={fame.period === period ? "page" : undefined}
      className={`rounded-full px-3 py-1 text-sm font-medium ${fame.period === period ? "bg-cactus-700 text-white" : "bg-stone-100 text-stone-700"}`}
    >
      {label}
    </Link>
  );
  return (
    <>
      <PageTitle>Hall of fame</PageTitle>
      <div className="-mt-2 mb-4 flex gap-2">
        {tab("all", "All time")}
        {tab("30d", "Last 30 days")}
      </div>
      <Board title="Most work units" rows={fame.byWu} value={(row) => `${formatWu(row.wu)} WU`} />
      <Board title="Most render time" rows={fame.byTime} value={(row) => formatDuration(row.renderSeconds)} />
      <Card className="mb-4">
        <h2 className="mb-2 font-semibold">Records</h2>
        <p className="text-sm text-stone-700">
          Longest frame:{" "}
          {fame.longestFrame
            ? `${formatDuration(fame.longestFrame.seconds)} — frame ${fame.longestFrame.frame}, by ${fame.longestFrame.person}'s ${fame.longestFrame.machine}`
            : "none yet"}
        </p>
        <p className="mt-1 text-sm text-stone-700">
          Longest render:{" "}
          {fame.longestRender
            ? `${formatDuration(fame.longestRender.seconds)} for ${formatWu(fame.longestRender.wu)} WU (${fame.longestRender.frames} frames), ${fame.longestRender.owner}'s`
            : "none finished yet"}
        </p>
      </Card>
      <div className="flex justify-between text-sm">
        {fame.page > 1 ? <Link to={`?period=${fame.period}&page=${fame.page - 1}`}>← Previous</Link> : <span />}
        {fame.byWu.length === fame.pageSize ? <Link to={`?period=${fame.period}&page=${fame.page + 1}`}>Next →</Link> : null}
      </div>
    </>
  );
}
