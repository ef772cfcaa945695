import { FRAME_EXTENSIONS, type OutputFormat } from "./output-format";

// What a rendered frame is called on the user's disk: one name for the single-frame
// download, the zip's entries and the CLI's files, so a re-download finds what it has.

/** The name of the scene in file names: the main .blend's, without folders and extension. */
export function sceneBaseName(archive: { filename: string; mainPath: string | null }): string {
  const file = (archive.mainPath ?? archive.filename).split(/[\\/]/).pop() ?? "";
  const base = file.replace(/\.(blend|zip)$/i, "").replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  return base === "" ? "frame" : base;
}

/** `shot_00012.png`: the scene's name and the frame, padded as Blender pads `#####`. */
export function frameFilename(base: string, frame: number, format: OutputFormat): string {
  return `${base}_${String(frame).padStart(5, "0")}.${FRAME_EXTENSIONS[format]}`;
}

/** The zip of a render's frames: `shot_render12.zip`. */
export function renderZipFilename(base: string, renderId: number): string {
  return `${base}_render${renderId}.zip`;
}
