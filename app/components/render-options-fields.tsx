import type { ArchiveDto } from "../../contract";
import { engineHasSamples } from "../../domain/engines";
import { RENDER_OPTION_LIMITS, type RenderOptions } from "../../domain/scene-check";
import { NumberField, SelectField } from "./ui";

/**
 * What a render may change of the scene (the CLI's --scene, --camera, --view-layer,
 * --resolution-percentage, --samples, --strict), for the request form. Shown once an agent
 * has read the scene: the server checks them against what it found. Empty: the file's own.
 */
export function RenderOptionsFields({
  archive,
  id,
  errors,
}: {
  archive: ArchiveDto;
  id: (name: string) => string;
  errors: Record<string, string | undefined>;
}) {
  const { facts } = archive;
  if (!facts.scenes || !facts.scene) return null;
  const scenes = facts.scenes.map((scene) => scene.name);
  const cameras = facts.cameraObjects ?? [];
  const layers = [...new Set(facts.scenes.flatMap((scene) => scene.viewLayers.map((layer) => layer.name)))];
  const size = facts.outputWidth && facts.outputHeight ? ` (${facts.outputWidth}×${facts.outputHeight})` : "";
  // A field's name, its id, and the server's word on it: they go together.
  const wire = (name: keyof RenderOptions) => ({ name, id: id(name), error: errors[name] });
  const samplesApply = facts.engine === null || engineHasSamples(facts.engine);
  return (
    <fieldset className="flex min-w-0 flex-col gap-3">
      <legend className="mb-1 text-sm font-semibold text-stone-700">Scene</legend>
      {scenes.length > 1 ? (
        <SelectField
          label="Scene"
          {...wire("scene")}
          defaultValue=""
          options={[
            { value: "", label: `${facts.scene} (the file's)` },
            ...scenes.filter((name) => name !== facts.scene).map((name) => ({ value: name, label: name })),
          ]}
        />
      ) : null}
      <SelectField
        label="Camera"
        {...wire("camera")}
        defaultValue=""
        hint={facts.activeCamera ? undefined : cameras.length > 0 ? "The scene has no camera set: choose one." : "The file has no camera."}
        options={[
          { value: "", label: facts.activeCamera ? `${facts.activeCamera} (the scene's)` : "None set" },
          ...cameras.filter((name) => name !== facts.activeCamera).map((name) => ({ value: name, label: name })),
        ]}
      />
      <SelectField
        label="View layer"
        {...wire("viewLayer")}
        defaultValue=""
        options={[{ value: "", label: "Those the scene renders" }, ...layers.map((name) => ({ value: name, label: `Only ${name}` }))]}
      />
      <div className="grid grid-cols-2 gap-3">
        <NumberField
          label="Resolution %"
          {...wire("resolutionPercentage")}
          range={RENDER_OPTION_LIMITS.resolutionPercentage}
          placeholder={String(facts.resolutionPercentage ?? 100)}
          hint={`The scene's: ${facts.resolutionPercentage ?? 100} %${size}.`}
        />
        <NumberField
          label="Samples"
          {...wire("samples")}
          range={RENDER_OPTION_LIMITS.samples}
          placeholder={facts.samples === null ? "" : String(facts.samples)}
          disabled={!samplesApply}
          hint={samplesApply ? `The scene's: ${facts.samples ?? "?"}.` : "Workbench has none."}
        />
      </div>
      {facts.missingFiles?.length ? (
        <label className="flex min-h-11 items-center gap-2 text-sm text-stone-700">
          <input type="checkbox" name="strict" className="size-5 accent-cactus-700" />
          Refuse the render: files the scene uses are missing
        </label>
      ) : null}
    </fieldset>
  );
}
