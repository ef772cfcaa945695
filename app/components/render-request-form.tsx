import { useFetcher } from "@remix-run/react";
import type { ArchiveDto } from "../../contract";
import { OUTPUT_FORMATS, OUTPUT_FORMAT_LABELS } from "../../domain/output-format";
import { failureOf } from "~/lib/form";
import { Button, Field, FormError } from "./ui";

const FORMATS = OUTPUT_FORMATS.map((value) => ({ value, label: OUTPUT_FORMAT_LABELS[value] }));

/**
 * "Render…" under an archive: frames (the scene's own range once an agent has read it),
 * frames per task, format and price. The page's action requests the render and goes to it.
 */
export function RenderRequestForm({ archive }: { archive: ArchiveDto }) {
  const request = useFetcher();
  const failure = failureOf(request.data);
  const { frameStart, frameEnd } = archive.facts;
  const sceneFrames = frameStart !== null && frameEnd !== null ? (frameStart === frameEnd ? String(frameStart) : `${frameStart}-${frameEnd}`) : "";
  const id = (name: string) => `render-${archive.id}-${name}`;
  return (
    <details className="mt-3 border-t border-stone-100 pt-1" open={failure ? true : undefined}>
      <summary className="min-h-11 cursor-pointer content-center text-sm font-semibold text-cactus-700">Render…</summary>
      <request.Form method="post" className="flex flex-col gap-3 pt-2" aria-label={`Render ${archive.filename}`}>
        <input type="hidden" name="intent" value="render" />
        <input type="hidden" name="archiveId" value={archive.id} />
        <Field
          label="Frames"
          name="frames"
          id={id("frames")}
          defaultValue={sceneFrames}
          placeholder="1-24"
          autoCapitalize="none"
          spellCheck={false}
          required={sceneFrames === ""}
          error={failure?.fieldErrors.frames}
          hint={
            sceneFrames
              ? "The scene's range. A-B:STEP renders every STEP-th frame."
              : "The scene's range is not known yet: write it, e.g. 1-24 or 1-24:2."
          }
        />
        <div className="grid grid-cols-2 gap-3">
          <Field
            label="Frames per task"
            name="chunk"
            id={id("chunk")}
            type="number"
            inputMode="numeric"
            min={1}
            max={1000}
            defaultValue={1}
            required
            error={failure?.fieldErrors.chunk}
          />
          <Field
            label="Price (credits/WU)"
            name="price"
            id={id("price")}
            type="number"
            inputMode="decimal"
            min={0}
            step="any"
            defaultValue={0}
            required
            error={failure?.fieldErrors.price}
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={id("format")} className="text-sm font-medium text-stone-700">
            Format
          </label>
          <select
            id={id("format")}
            name="format"
            defaultValue="PNG"
            className="min-h-11 rounded-lg border border-stone-300 bg-white px-3 py-2 text-base outline-none focus:ring-2 focus:ring-cactus-500"
          >
            {FORMATS.map((format) => (
              <option key={format.value} value={format.value}>
                {format.label}
              </option>
            ))}
          </select>
        </div>
        <label htmlFor={id("estimate-only")} className="flex min-h-11 items-start gap-3 text-sm text-stone-700">
          <input id={id("estimate-only")} type="checkbox" name="estimateOnly" className="mt-1 size-5 shrink-0 accent-cactus-700" />
          <span>
            <span className="font-medium">Quote first</span>
            <span className="block text-stone-500">
              Render only the sample frames, then wait for me to confirm the quote. Otherwise it carries on by itself.
            </span>
          </span>
        </label>
        <FormError>{failure?.formError ?? failure?.fieldErrors.format ?? failure?.fieldErrors.archiveId}</FormError>
        <Button disabled={request.state !== "idle"}>Request render</Button>
      </request.Form>
    </details>
  );
}
