import { z } from "zod";
import { ARCHIVE_KINDS, BLEND_COMPRESSIONS } from "../domain/blend-header";
import { sceneOfFileSchema, viewLayerSchema } from "./scenes";
import { hasControlCharacters } from "./text";

export const sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "A sha256 is 64 lowercase hex digits.")
  .describe("sha256 of the archive's bytes, lowercase hex.");

export const archiveKindSchema = z.enum(ARCHIVE_KINDS);
export const compressionSchema = z.enum(BLEND_COMPRESSIONS);

/**
 * What is known of an archive's main .blend: the header now, the scene once an agent
 * read it (null until then). The flat fields are the scene Blender renders when told none.
 */
export const archiveFactsSchema = z.object({
  blenderVersion: z.string().nullable().describe("Blender version that saved the file, e.g. 3.4."),
  compression: compressionSchema.nullable(),
  scene: z.string().nullable().describe("The scene Blender renders when a render names none."),
  frameStart: z.number().int().nullable(),
  frameEnd: z.number().int().nullable(),
  frameStep: z.number().int().nullable(),
  fps: z.number().nullable(),
  resolutionX: z.number().int().nullable(),
  resolutionY: z.number().int().nullable(),
  resolutionPercentage: z.number().int().nullable(),
  outputWidth: z.number().int().nullable().describe("Size of the images Blender writes (percentage and crop applied)."),
  outputHeight: z.number().int().nullable(),
  engine: z.string().nullable(),
  samples: z.number().int().nullable(),
  denoising: z.boolean().nullable(),
  outputFormat: z.string().nullable().describe("The file's own output format; a render writes the one it asks for."),
  activeCamera: z.string().nullable(),
  cameras: z.array(z.string()).nullable().describe("Camera objects in that scene."),
  viewLayers: z.array(viewLayerSchema).nullable(),
  hasScripts: z.boolean().nullable(),
  scripts: z.array(z.string()).nullable().describe("Python in the file (text blocks, drivers): the farm never runs it."),
  missingFiles: z.array(z.string()).nullable().describe("Files the scene uses that are not in the archive (paths as the file has them)."),
  cameraObjects: z.array(z.string()).nullable().describe("Camera objects anywhere in the file: what a render may choose."),
  scenes: z.array(sceneOfFileSchema).nullable().describe("Every scene of the file, each with its own settings."),
});
export type ArchiveFacts = z.infer<typeof archiveFactsSchema>;

export const inspectionSchema = z.object({
  status: z
    .enum(["waiting", "done", "failed"])
    .describe("waiting: for one of the owner's agents to read the scene; failed: Blender could not (error says why)."),
  error: z.string().nullable(),
  at: z.iso.datetime().nullable(),
});

export const sceneCheckSchema = z
  .object({
    refusals: z.array(z.string()).describe("Why a render as the file is would be refused (422), each with what to do."),
    warnings: z.array(z.string()).describe("What would render, but maybe not as meant."),
  })
  .describe("A render of the file with no options, checked as a request would be; null until the scene is read.");

export const archiveSchema = z.object({
  id: z.number().int(),
  projectId: z.number().int(),
  filename: z.string(),
  hash: sha256Schema,
  size: z.number().int(),
  kind: archiveKindSchema,
  mainPath: z.string().nullable().describe("The main .blend inside a zip."),
  facts: archiveFactsSchema,
  inspection: inspectionSchema,
  sceneCheck: sceneCheckSchema.nullable(),
  createdAt: z.iso.datetime(),
});
export type ArchiveDto = z.infer<typeof archiveSchema>;

/** An upload's answer: `deduplicated` is true when no bytes were sent or stored again. */
export const uploadedArchiveSchema = archiveSchema.extend({ deduplicated: z.boolean() });
export type UploadedArchiveDto = z.infer<typeof uploadedArchiveSchema>;

export const archiveListSchema = z.object({ archives: z.array(archiveSchema) });

export const filenameSchema = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .refine((name) => !/[/\\]/.test(name), "A filename has no slashes.")
  .refine((name) => !hasControlCharacters(name), "A filename cannot hold control characters or text-direction marks.");

/** "Do you have H?": add an archive by hash, without its bytes, when the server has them. */
export const dedupeRequestSchema = z.object({
  sha256: sha256Schema,
  filename: filenameSchema,
  mainPath: z.string().min(1).max(1024).refine((path) => !hasControlCharacters(path), "A path cannot hold control characters.").optional(),
});

/** Query string of the streamed upload; the body is the raw file. */
export const uploadQuerySchema = z.object({
  filename: filenameSchema,
  main: z.string().min(1).max(1024).refine((path) => !hasControlCharacters(path), "A path cannot hold control characters.").optional().describe("Main .blend inside a zip with several."),
});

/** Header carrying the client's sha256 of the body; a mismatch stores nothing. */
export const CONTENT_SHA256_HEADER = "x-content-sha256";
