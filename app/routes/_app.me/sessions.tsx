import { useFetcher } from "@remix-run/react";
import { Button, Card } from "~/components/ui";
import { day } from "./dates";
import type { action } from "./route";

export interface SessionRow {
  id: number;
  device: string;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
  current: boolean;
}

/** Where this account is signed in, and a way to sign any of those out. */
export function SessionsSection({ sessions }: { sessions: SessionRow[] }) {
  const endOthers = useFetcher<typeof action>();
  const others = sessions.filter((session) => !session.current).length;
  const ended = endOthers.data?.ok && endOthers.data.intent === "end-other-sessions" ? endOthers.data.ended : null;
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Signed-in devices</h2>
      <p className="mb-3 text-sm text-stone-600">
        Each browser where you signed in. One you do not know? Sign it out, then change your password.
      </p>
      <ul className="divide-y divide-stone-100" aria-label="Signed-in devices">
        {sessions.map((session) => (
          <SessionItem key={session.id} session={session} />
        ))}
      </ul>
      {others > 0 ? (
        <endOthers.Form method="post" className="mt-3 flex flex-col">
          <input type="hidden" name="intent" value="end-other-sessions" />
          <Button variant="secondary" disabled={endOthers.state !== "idle"}>
            Sign out everywhere else
          </Button>
        </endOthers.Form>
      ) : null}
      {ended !== null ? (
        <p role="status" className="mt-2 text-sm text-cactus-800">
          Signed out {ended} other {ended === 1 ? "device" : "devices"}.
        </p>
      ) : null}
    </Card>
  );
}

function SessionItem({ session }: { session: SessionRow }) {
  const end = useFetcher<typeof action>();
  return (
    <li className="flex items-center justify-between gap-3 py-2">
      <div className="min-w-0">
        <p className="font-medium wrap-anywhere">
          {session.device}
          {session.current ? <span className="ml-2 rounded bg-cactus-100 px-1.5 py-0.5 text-xs text-cactus-800">this device</span> : null}
        </p>
        <p className="text-xs text-stone-500">
          signed in {day(session.createdAt)} · last used {day(session.lastSeenAt)}
          {session.ip ? ` · ${session.ip}` : ""}
        </p>
      </div>
      {session.current ? null : (
        <end.Form method="post">
          <input type="hidden" name="intent" value="end-session" />
          <input type="hidden" name="sessionId" value={session.id} />
          <Button variant="danger" className="shrink-0 whitespace-nowrap" disabled={end.state !== "idle"} aria-label={`Sign out ${session.device}`}>
            Sign out
          </Button>
        </end.Form>
      )}
    </li>
  );
}
