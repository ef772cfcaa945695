import { useFetcher } from "@remix-run/react";
import { useState } from "react";
import type { RenderDto } from "../../contract";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { failureOf } from "~/lib/form";
import type { RenderChange } from "~/models/render.server";
import { Button, FormError } from "./ui";

/** Which changes make sense in a status; the server has the last word (a 409 with the reason). */
function changesFor(status: RenderDto["status"]): RenderChange[] {
  if (isRenderFinished(status)) return [];
  if (status === "paused") return ["resume", "cancel"];
  if (status === "queued" || status === "rendering") return ["pause", "cancel"];
  // Confirm is on the quote card, next to what it confirms.
  if (status === "quoted") return ["cancel"];
  if (status === "estimating") return ["pause", "cancel"];
  return ["cancel"];
}

const BUTTONS: Record<RenderChange, { label: string; variant: "primary" | "secondary" | "danger" }> = {
  confirm: { label: "Confirm quote", variant: "primary" },
  pause: { label: "Pause", variant: "secondary" },
  resume: { label: "Resume", variant: "primary" },
  cancel: { label: "Cancel render", variant: "danger" },
};

/**
 * Pause, resume, cancel — and the zip once frames are there. One fetcher for the three,
 * so a refusal (someone changed the render elsewhere first) shows under the buttons.
 */
export function RenderActions({ render }: { render: RenderDto }) {
  const change = useFetcher<{ ok: true } | { ok: false; formError: string | null }>();
  const failure = failureOf(change.data);
  const changes = changesFor(render.status);
  // Cancelling cannot be undone: it asks first.
  const [confirming, setConfirming] = useState(false);
  const zip = render.frames.done > 0 && isRenderFinished(render.status);
  if (changes.length === 0 && !zip && !failure) return null;
  return (
    <div className="mt-4 flex flex-col gap-2">
      {changes.length > 0 && confirming && changes.includes("cancel") ? (
        <change.Form method="post" onSubmit={() => setConfirming(false)} className="flex flex-col gap-2 rounded-lg border border-red-200 bg-red-50 p-3">
          <p className="text-sm text-red-900">
            Cancel render {render.id}? Its {render.frames.done} rendered frame{render.frames.done === 1 ? " stays" : "s stay"} to
            download; the rest are not rendered, and it cannot be resumed.
          </p>
          <div className="grid grid-cols-2 gap-2">
            <Button type="button" variant="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </Button>
            <Button name="intent" value="cancel" variant="danger" disabled={change.state !== "idle"}>
              Yes, cancel it
            </Button>
          </div>
        </change.Form>
      ) : changes.length > 0 ? (
        <change.Form method="post" className="grid grid-cols-2 gap-2">
          {changes.map((intent) =>
            intent === "cancel" ? (
              <Button key={intent} type="button" variant="danger" onClick={() => setConfirming(true)}>
                {BUTTONS.cancel.label}
              </Button>
            ) : (
              <Button key={intent} name="intent" value={intent} variant={BUTTONS[intent].variant} disabled={change.state !== "idle"}>
                {BUTTONS[intent].label}
              </Button>
            ),
          )}
        </change.Form>
      ) : null}
      <FormError>{failure?.formError ?? failure?.fieldErrors.intent}</FormError>
      {zip ? (
        <a
          href={`/api/v1/renders/${render.id}/download.zip`}
          download
          className="inline-flex min-h-11 items-center justify-center rounded-lg bg-cactus-700 px-4 py-2 text-sm font-semibold text-white hover:bg-cactus-800"
        >
          {render.status === "done" ? "Download all (zip)" : `Download the ${render.frames.done} rendered frames (zip)`}
        </a>
      ) : null}
    </div>
  );
}
