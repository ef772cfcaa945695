import { useFetcher } from "@remix-run/react";
import type { ArchiveDto } from "../../contract";
import { FRAMES_PER_TASK, formatFrameRange } from "../../domain/frames";
import { OUTPUT_FORMATS, OUTPUT_FORMAT_LABELS } from "../../domain/output-format";
import { failureOf } from "~/lib/form";
import { RenderOptionsFields } from "./render-options-fields";
import { Button, Field, FormError, NumberField, SelectField } from "./ui";

const FORMATS = OUTPUT_FORMATS.map((value) => ({ value, label: OUTPUT_FORMAT_LABELS[value] }));

/**
 * "Render…" under an archive: frames (the scene's own range once an agent has read it),
 * frames per task, format, price, and what to change of the scene. The page's action
 * requests the render and goes to it; a refusal (no camera…) shows above the button.
 */
export function RenderRequestForm({ archive }: { archive: ArchiveDto }) {
  const request = useFetcher();
  const failure = failureOf(request.data);
  const { frameStart, frameEnd, frameStep, scenes } = archive.facts;
  const known = frameStart !== null && frameEnd !== null;
  const sceneFrames = known ? formatFrameRange({ start: frameStart, end: frameEnd, step: frameStep ?? 1 }) : "";
  // Several scenes: left empty, the frames are those of the scene chosen below.
  const severalScenes = (scenes?.length ?? 0) > 1;
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
          defaultValue={severalScenes ? "" : sceneFrames}
          placeholder={sceneFrames || "1-24"}
          autoCapitalize="none"
          spellCheck={false}
          required={!known}
          error={failure?.fieldErrors.frames}
          hint={
            severalScenes
              ? "Empty: the chosen scene's own range. A-B:STEP renders every STEP-th frame."
              : known
                ? "The scene's range. A-B:STEP renders every STEP-th frame."
                : "The scene's range is not known yet: write it, e.g. 1-24 or 1-24:2."
          }
        />
        <div className="grid grid-cols-2 gap-3">
          <NumberField
            label="Frames per task"
            name="chunk"
            id={id("chunk")}
            range={FRAMES_PER_TASK}
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
        <SelectField label="Format" name="format" id={id("format")} defaultValue="PNG" options={FORMATS} />
        <RenderOptionsFields archive={archive} id={id} errors={failure?.fieldErrors ?? {}} />
        <label htmlFor={id("estimate-only")} className="flex min-h-11 items-start gap-3 text-sm text-stone-700">
          <input id={id("estimate-only")} type="checkbox" name="estimateOnly" className="mt-1 size-5 shrink-0 accent-cactus-700" />
          <span>
            <span className="font-medium">Quote first</span>
            <span className="block text-stone-500">
              Render only the sample frames, then wait for me to confirm the quote. Otherwise it carries on by itself.
            </span>
          </span>
        </label>
        <FormError>{failure?.formError ?? failure?.fieldErrors.format ?? failure?.fieldErrors.archiveId ?? failure?.fieldErrors.strict}</FormError>
        <Button disabled={request.state !== "idle"}>Request render</Button>
      </request.Form>
    </details>
  );
}
