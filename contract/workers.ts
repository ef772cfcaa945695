import { z } from "zod";
import { SANDBOX_MODES } from "../domain/sandbox";
import { WORKER_STATUSES } from "../domain/worker-status";
import { nameSchema } from "./text";

export const workerNameSchema = nameSchema("worker")
  .describe("A name for the machine, unique among your workers, e.g. studio-pc.");

export const workerStatusSchema = z.enum(WORKER_STATUSES);
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

/** What an agent finds out about its machine and tells the server on hello. */
export const workerCapabilitiesSchema = z.object({
  denoiser: z.boolean().describe("Whether this Blender has OpenImageDenoise."),
  threads: z.number().int().positive(),
  agentVersion: z.string().max(40).optional(),
  sandbox: z
    .enum(SANDBOX_MODES)
    .optional()
    .describe("How the agent runs Blender: bwrap, a sandbox with no network that sees only its task's files; off, with the agent's user's rights. An agent older than the sandbox says nothing and counts as off."),
  engines: z
    .array(z.string().min(1).max(40))
    .max(20)
    .optional()
    .describe(
      "The render engines (CYCLES, BLENDER_EEVEE, BLENDER_WORKBENCH…) this Blender rendered a test frame with on this machine: " +
        "it is handed renders of those only. Absent from agents too old to say, which are handed any.",
    ),
});
export type WorkerCapabilities = z.infer<typeof workerCapabilitiesSchema>;

export const workerSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  enabled: z.boolean(),
  status: workerStatusSchema,
  lastSeenAt: z.iso.datetime().nullable(),
  pausedReason: z.string().nullable().describe("While paused: why its agent gave the machine back to its owner."),
  blenderVersion: z.string().nullable(),
  capabilities: workerCapabilitiesSchema.partial(),
  wupm: z.number().nullable().describe("Work units per minute from the benchmark; null until benchmarked."),
  wupmMeasuredAt: z.iso.datetime().nullable().describe("When the benchmark behind wupm ran."),
  othersUnsandboxed: z
    .boolean()
    .describe("Its owner lets it render other people's files although its agent runs Blender without the sandbox (they chose the risk)."),
  createdAt: z.iso.datetime(),
});
export type WorkerDto = z.infer<typeof workerSchema>;

export const createWorkerRequestSchema = z.object({ name: workerNameSchema });
/** Answered once: the token is stored only as a hash. */
export const createdWorkerSchema = workerSchema.extend({
  token: z.string().describe("The agent's token (CACTUS_WORKER_TOKEN); shown only now."),
  agentInstall: z
    .string()
    .describe("The line that installs and starts the agent with this token on a machine with Node and Blender (curl … | sh); shown only now."),
});
export type CreatedWorkerDto = z.infer<typeof createdWorkerSchema>;

export const updateWorkerRequestSchema = z
  .object({ name: workerNameSchema.optional(), enabled: z.boolean().optional(), othersUnsandboxed: z.boolean().optional() })
  .refine(
    (value) => value.name !== undefined || value.enabled !== undefined || value.othersUnsandboxed !== undefined,
    "Send a new name, enabled or othersUnsandboxed.",
  );

export const workerListSchema = z.object({ workers: z.array(workerSchema) });
