import type { RenderDto } from "../../contract";
import { formatDuration } from "../../domain/work-units";

// What the quote card says about time and about Confirm, kept apart from the card so the
// wording's cases (waiting for a confirmation, nothing left, no worker) have their test.

/** Nothing past the sample frames renders until the owner confirms: sampling a quote-first render, or quoted. */
function waitsForConfirmation(render: Pick<RenderDto, "status" | "estimateOnly">): boolean {
  return render.status === "quoted" || (render.status === "estimating" && render.estimateOnly);
}

/** The card's time row: "Done in about 2 min", or "Takes about 2 min once confirmed" while the render waits for it. */
export function timeRow(render: Pick<RenderDto, "status" | "estimateOnly">, etaSeconds: number | null): { label: string; text: string } {
  const waits = waitsForConfirmation(render);
  const label = waits ? "Takes" : "Done in";
  if (etaSeconds === null) return { label, text: "— no worker of yours is online to render it" };
  if (etaSeconds === 0) return { label, text: "nothing left to render" };
  return { label, text: `about ${formatDuration(etaSeconds)}${waits ? " once confirmed" : ""}` };
}

/** The Confirm button: what it sets going; a render whose frames were all samples only has its quote to accept. */
export function confirmLabel(framesLeft: number): string {
  if (framesLeft <= 0) return "Confirm — every frame is already rendered";
  return `Confirm — render the other ${framesLeft} ${framesLeft === 1 ? "frame" : "frames"}`;
}
