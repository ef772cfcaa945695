import type { ArchiveDto } from "../../contract";
import { engineHasSamples } from "../../domain/engines";
import { RENDER_OPTION_LIMITS } from "../../domain/scene-check";
import { Field, SelectField } from "./ui";

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
  const { resolutionPercentage: percent, samples } = RENDER_OPTION_LIMITS;
  return (
    <fieldset className="flex min-w-0 flex-col gap-3">
      <legend className="mb-1 text-sm font-semibold text-stone-700">Scene</legend>
      {scenes.length > 1 ? (
        <SelectField
          label="Scene"
          name="scene"
          id={id("scene")}
          defaultValue=""
          error={errors.scene}
          options={[
            { value: "", label: `${facts.scene} (the file's)` },
            ...scenes.filter((name) => name !== facts.scene).map((name) => ({ value: name, label: name })),
          ]}
        />
      ) : null}
      <SelectField
        label="Camera"
        name="camera"
        id={id("camera")}
        defaultValue=""
        error={errors.camera}
        hint={facts.activeCamera ? undefined : cameras.length > 0 ? "The scene has no camera set: choose one." : "The file has no camera."}
        options={[
          { value: "", label: facts.activeCamera ? `${facts.activeCamera} (the scene's)` : "None set" },
          ...cameras.filter((name) => name !== facts.activeCamera).map((name) => ({ value: name, label: name })),
        ]}
      />
      <SelectField
        label="View layer"
        name="viewLayer"
        id={id("viewLayer")}
        defaultValue=""
        error={errors.viewLayer}
        options={[{ value: "", label: "Those the scene renders" }, ...layers.map((name) => ({ value: name, label: `Only ${name}` }))]}
      />
      <div className="grid grid-cols-2 gap-3">
        <Field
          label="Resolution %"
          name="resolutionPercentage"
          id={id("resolutionPercentage")}
          type="number"
          inputMode="numeric"
          min={percent.min}
          max={percent.max}
          placeholder={String(facts.resolutionPercentage ?? 100)}
          error={errors.resolutionPercentage}
          hint={`The scene's: ${facts.resolutionPercentage ?? 100} %${size}.`}
        />
        <Field
          label="Samples"
          name="samples"
          id={id("samples")}
          type="number"
          inputMode="numeric"
          min={samples.min}
          max={samples.max}
          placeholder={facts.samples === null ? "" : String(facts.samples)}
          disabled={facts.engine !== null && !engineHasSamples(facts.engine)}
          error={errors.samples}
          hint={facts.engine !== null && !engineHasSamples(facts.engine) ? "Workbench has none." : `The scene's: ${facts.samples ?? "?"}.`}
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
