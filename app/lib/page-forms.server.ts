// The pages' form schemas, on the server only: zod stays out of the phone's JavaScript
// (a route module's top-level schemas would ride into its client bundle).
import { z } from "zod";
export { changePasswordRequestSchema, createInvitationRequestSchema, errorStatus } from "../../contract";
import { frameRangeTextSchema, nameInFileSchema, outputFormatSchema, passwordSchema, percentageSchema, samplesSchema, projectNameSchema, tokenNameSchema, usernameSchema, workerNameSchema } from "../../contract";

export const NO_CODE =
  "Sign-up is by invitation only: open the link from your invitation, or ask someone on this farm to invite you.";

export const signupFormSchema = z.object({
  code: z.string().trim().min(1, NO_CODE),
  username: usernameSchema,
  password: passwordSchema,
});

export const projectNameForm = z.object({ name: projectNameSchema });

export const projectIdForm = z.object({ projectId: z.coerce.number().int().positive() });

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text?.trim() ? text.trim() : undefined))
  .pipe(nameInFileSchema.optional());
const optionalNumber = (schema: z.ZodNumber, message: string) =>
  z
    .string()
    .optional()
    .transform((text) => (text?.trim() ? Number(text) : undefined))
    .pipe(z.number({ error: message }).pipe(schema).optional());

export const renderForm = z.object({
  archiveId: z.coerce.number().int().positive(),
  // Empty: the scene's own range, as the CLI without --frames.
  frames: z
    .string()
    .trim()
    .transform((text) => (text === "" ? undefined : text))
    .pipe(frameRangeTextSchema.optional()),
  chunk: z.coerce
    .number({ error: "Write how many frames one task renders, e.g. 1." })
    .int("Frames per task is a whole number, e.g. 1.")
    .min(1, "A task renders at least 1 frame.")
    .max(1000, "A task renders at most 1000 frames."),
  format: outputFormatSchema,
  // The scene's own when left empty, as the CLI without --scene, --camera…
  scene: optionalText,
  camera: optionalText,
  viewLayer: optionalText,
  resolutionPercentage: optionalNumber(percentageSchema, "The resolution percentage is a whole number, e.g. 50."),
  samples: optionalNumber(samplesSchema, "Samples are a whole number, e.g. 16."),
  strict: z.literal("on").optional().transform((value) => value === "on"),
  price: z.coerce
    .number({ error: "Write the price in credits per work unit, e.g. 0 or 2.5." })
    .min(0, "The price cannot be negative; 0 renders when nobody pays more.")
    .max(1_000_000, "The price is at most 1 000 000 credits per work unit."),
  // A checkbox: sent as "on" when ticked, absent otherwise.
  estimateOnly: z
    .string()
    .optional()
    .transform((value) => value === "on"),
});

export const tokenForm = z.object({ name: tokenNameSchema });

export const endSessionForm = z.object({ sessionId: z.coerce.number().int().positive() });

export const revokeForm = z.object({ tokenId: z.coerce.number().int().positive() });

export const loginFormSchema = z.object({
  username: z.string().trim().min(1, "Enter your username."),
  password: z.string().min(1, "Enter your password."),
  redirectTo: z.string().optional(),
});

export const workerNameForm = z.object({ name: workerNameSchema });

export const workerIdForm = z.object({ workerId: z.coerce.number().int().positive() });

export const setupFormSchema = z.object({
  code: z.string().trim().min(1, "Paste the setup code from the server's console."),
  username: usernameSchema,
  password: passwordSchema,
});
