// The image formats a render can write, by Blender's own names (what `-F` takes).

export const OUTPUT_FORMATS = ["PNG", "JPEG", "OPEN_EXR"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What people call them. */
export const OUTPUT_FORMAT_LABELS: Record<OutputFormat, string> = { PNG: "PNG", JPEG: "JPEG", OPEN_EXR: "OpenEXR" };

/** The extension Blender gives each format's files (and the downloads keep). */
export const FRAME_EXTENSIONS: Record<OutputFormat, string> = { PNG: "png", JPEG: "jpg", OPEN_EXR: "exr" };
