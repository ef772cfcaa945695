import { z } from "zod";
import { ARCHIVE_KINDS, BLEND_COMPRESSIONS } from "../domain/blend-header";
import { hasControlCharacters } from "./text";

export const sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "A sha256 is 64 lowercase hex digits.")
  .describe("sha256 of the archive's bytes, lowercase hex.");

export const archiveKindSchema = z.enum(ARCHIVE_KINDS);
export const compressionSchema = z.enum(BLEND_COMPRESSIONS);

/** What is known of an archive's main .blend: the header now, the scene once inspected. */
export const archiveFactsSchema = z.object({
  blenderVersion: z.string().nullable().describe("Blender version that saved the file, e.g. 3.4."),
  compression: compressionSchema.nullable(),
  frameStart: z.number().int().nullable(),
  frameEnd: z.number().int().nullable(),
  fps: z.number().nullable(),
  resolutionX: z.number().int().nullable(),
  resolutionY: z.number().int().nullable(),
  resolutionPercentage: z.number().int().nullable(),
  engine: z.string().nullable(),
  samples: z.number().int().nullable(),
  denoising: z.boolean().nullable(),
  hasScripts: z.boolean().nullable(),
});
export type ArchiveFacts = z.infer<typeof archiveFactsSchema>;

export const archiveSchema = z.object({
  id: z.number().int(),
  projectId: z.number().int(),
  filename: z.string(),
  hash: sha256Schema,
  size: z.number().int(),
  kind: archiveKindSchema,
  mainPath: z.string().nullable().describe("The main .blend inside a zip."),
  facts: archiveFactsSchema,
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
