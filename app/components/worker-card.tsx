import { useFetcher, type FetcherWithComponents } from "@remix-run/react";
import { useState, type ReactNode } from "react";
import type { WorkerDto } from "../../contract";
import { engineLabel } from "../../domain/engines";
import type { SandboxMode } from "../../domain/sandbox";
import { failureOf } from "~/lib/form";
import { RenameForm } from "./rename-form";
import { Time } from "./time";
import { Button, FormError } from "./ui";
import { seenAgo, WorkerStatusBadge } from "./worker-status";

/** How its agent runs Blender (docs/decisions/017-blender-in-a-sandbox.md). */
const SANDBOX_LABELS: Record<SandboxMode, string> = {
  bwrap: "on (bwrap)",
  off: "off: Blender runs with the agent's rights",
};

/** One of my machines: what its agent said about it, and its switches. */
export function WorkerCard({ worker, now }: { worker: WorkerDto; now: string }) {
  const toggle = useFetcher();
  const rename = useFetcher();
  const remove = useFetcher();
  const renameFailure = failureOf(rename.data);
  const toggleFailure = failureOf(toggle.data) ?? failureOf(remove.data);
  const { capabilities } = worker;
  const facts: [string, ReactNode][] = [
    ["Blender", worker.blenderVersion],
    ["Threads", capabilities.threads !== undefined ? String(capabilities.threads) : null],
    ["Denoiser", capabilities.denoiser !== undefined ? (capabilities.denoiser ? "yes" : "no") : null],
    ["Sandbox", capabilities.sandbox ? SANDBOX_LABELS[capabilities.sandbox] : null],
    // The engines its test frames rendered with: it is handed renders of those only.
    ["Engines", capabilities.engines ? capabilities.engines.map(engineLabel).join(", ") || "none rendered its test frame" : null],
    [
      "WUPM",
      worker.wupm !== null ? (
        <>
          {worker.wupm.toFixed(2)}
          {worker.wupmMeasuredAt ? (
            <>
              {" "}
              (benchmarked <Time iso={worker.wupmMeasuredAt} />)
            </>
          ) : null}
        </>
      ) : null,
    ],
    ["Agent", capabilities.agentVersion ?? null],
  ];
  const known = facts.filter((fact) => fact[1] !== null);
  return (
    <li aria-label={worker.name} className="rounded-xl border border-stone-200 bg-white shadow-sm">
      <div className="flex flex-col gap-2 p-4">
        <div className="flex items-start justify-between gap-2">
          <span className="min-w-0">
            <span className="block font-semibold wrap-anywhere">{worker.name}</span>
            <span className="text-xs text-stone-500" data-testid="last-seen">
              {seenAgo(worker.lastSeenAt, now)}
            </span>
          </span>
          <WorkerStatusBadge status={worker.status} enabled={worker.enabled} />
        </div>
        {worker.status === "paused" ? (
          <p className="text-sm text-violet-900" data-testid="paused-reason">
            Paused by its owner: {worker.pausedReason ?? "the machine is busy"}. It resumes by itself once the machine is quiet.
          </p>
        ) : null}
        {known.length > 0 ? (
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
            {known.map(([label, value]) => (
              <div key={label} className="contents">
                <dt className="text-stone-500">{label}</dt>
                <dd className="min-w-0 wrap-anywhere">{value}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="text-sm text-stone-500">Its agent has not connected yet.</p>
        )}
        <toggle.Form method="post" className="flex flex-col">
          <input type="hidden" name="workerId" value={worker.id} />
          <Button
            name="intent"
            value={worker.enabled ? "disable" : "enable"}
            variant={worker.enabled ? "secondary" : "primary"}
            disabled={toggle.state !== "idle"}
            aria-label={`${worker.enabled ? "Disable" : "Enable"} ${worker.name}`}
          >
            {worker.enabled ? "Disable" : "Enable"}
          </Button>
        </toggle.Form>
        <FormError>{toggleFailure?.formError}</FormError>
        {capabilities.sandbox === "bwrap" ? null : (
          <toggle.Form method="post" className="flex flex-col gap-1">
            <input type="hidden" name="workerId" value={worker.id} />
            <p className="text-sm text-stone-600">
              {worker.othersUnsandboxed
                ? "It renders other people's files without the sandbox: a file could read what the agent's user can."
                : "Without the sandbox it renders only your own files."}
            </p>
            <Button
              name="intent"
              value={worker.othersUnsandboxed ? "others-sandboxed-only" : "others-unsandboxed"}
              variant="secondary"
              disabled={toggle.state !== "idle"}
            >
              {worker.othersUnsandboxed ? "Only my files without the sandbox" : "Render other people's files anyway"}
            </Button>
          </toggle.Form>
        )}
      </div>
      <details className="border-t border-stone-100 px-4 py-2" open={renameFailure ? true : undefined}>
        <summary className="min-h-11 cursor-pointer content-center text-sm font-medium text-stone-600">Rename or remove</summary>
        <div className="flex flex-col gap-4 pt-2 pb-3">
          <RenameForm fetcher={rename} idField="workerId" id={worker.id} name={worker.name} fieldId={`worker-${worker.id}-name`} />
          <RemoveForm fetcher={remove} worker={worker} />
        </div>
      </details>
    </li>
  );
}

/** Removing cannot be undone (the token dies with it): it asks first. */
function RemoveForm({ fetcher, worker }: { fetcher: FetcherWithComponents<unknown>; worker: WorkerDto }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <div className="flex flex-col gap-2">
        <p className="text-sm text-stone-600">Its token stops working at once; a frame it is rendering goes to another worker.</p>
        <Button type="button" variant="danger" onClick={() => setConfirming(true)}>
          Remove {worker.name}
        </Button>
      </div>
    );
  }
  return (
    <fetcher.Form method="post" className="flex flex-col gap-2 rounded-lg border border-red-200 bg-red-50 p-3">
      <input type="hidden" name="intent" value="remove" />
      <input type="hidden" name="workerId" value={worker.id} />
      <p className="text-sm text-red-900">
        Remove {worker.name}? Its agent stops getting work at once; to render on that machine again you create a new worker and
        give its agent the new token.
      </p>
      <div className="grid grid-cols-2 gap-2">
        <Button type="button" variant="secondary" onClick={() => setConfirming(false)}>
          Keep it
        </Button>
        <Button variant="danger" disabled={fetcher.state !== "idle"}>
          Yes, remove it
        </Button>
      </div>
    </fetcher.Form>
  );
}
