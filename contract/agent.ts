import { z } from "zod";
import { FAILURE_BLAMES } from "../domain/blender-failure";
import { TASK_FAILED_BECAUSE } from "../domain/scheduler";
import { archiveKindSchema, sha256Schema } from "./archives";
import { outputFormatSchema, renderOptionsSchema, renderStatusSchema } from "./renders";
import { renderBorderSchema, sceneOfFileSchema, viewLayerSchema } from "./scenes";
import { workerCapabilitiesSchema, workerStatusSchema } from "./workers";

// The agent protocol (docs/design.md §5): a worker token as `Authorization: Bearer ccw_…`.

export const helloRequestSchema = z.object({
  blenderVersion: z.string().min(1).max(40),
  capabilities: workerCapabilitiesSchema,
  status: workerStatusSchema
    .extract(["idle", "sleeping", "paused"])
    .optional()
    .describe(
      "sleeping: outside the agent's --schedule; paused: its machine is busy with its owner's own work. Either way it claims nothing and says hello about once a minute. idle (default): awake.",
    ),
  pausedReason: z.string().min(1).max(300).optional().describe("Why it paused, e.g. \"other programs keep 85 % of the CPU busy\"."),
});
/** The machine a benchmark ran on: another Blender, CPU or thread count means measuring again. */
export const benchmarkMachineSchema = z.object({
  blenderVersion: z.string().min(1).max(40),
  cpuModel: z.string().max(200),
  threads: z.number().int().positive(),
});
export type BenchmarkMachine = z.infer<typeof benchmarkMachineSchema>;

/** What `cactus-agent benchmark` measured: one WU is one render of the reference frame. */
export const benchmarkRequestSchema = benchmarkMachineSchema.extend({
  wupm: z.number().positive().max(1_000_000).describe("Renders of the reference frame per minute: 60 ÷ seconds."),
  seconds: z.number().positive().describe("One render of the reference frame: the median of the renders in the run."),
  renders: z.number().int().positive(),
  spread: z.number().min(0).describe("(slowest − fastest) ÷ median of the run's renders."),
  wallSeconds: z.number().positive().describe("The whole run, Blender's start included."),
});
export type BenchmarkRequest = z.infer<typeof benchmarkRequestSchema>;
export const benchmarkResponseSchema = z.object({ wupm: z.number(), measuredAt: z.iso.datetime() });

export const helloResponseSchema = z.object({
  worker: z.object({ id: z.number().int(), name: z.string(), enabled: z.boolean() }),
  leaseSeconds: z.number().int(),
  benchmark: benchmarkMachineSchema
    .extend({ wupm: z.number(), measuredAt: z.iso.datetime() })
    .nullable()
    .default(null)
    .describe("The worker's last benchmark and the machine it ran on; the agent measures again when this one differs."),
});

export const taskKindSchema = z.enum(["render", "inspect"]);

/** A leased task: everything the agent needs to render it, and the lease it holds. */
export const claimedTaskSchema = z.object({
  id: z.number().int(),
  kind: taskKindSchema,
  renderId: z.number().int().nullable(),
  // Null for an inspect task, which reads the scene and renders nothing.
  frameStart: z.number().int().nullable(),
  frameEnd: z.number().int().nullable(),
  format: outputFormatSchema.nullable(),
  leaseToken: z.uuid(),
  leaseExpiresAt: z.iso.datetime(),
  archive: z.object({
    id: z.number().int(),
    hash: sha256Schema,
    size: z.number().int(),
    kind: archiveKindSchema,
    mainPath: z.string().nullable(),
  }),
  expected: z
    .object({ width: z.number().int(), height: z.number().int() })
    .nullable()
    .describe("The size the frames must have (the render's resolution percentage applied); null while the scene is not read."),
  options: renderOptionsSchema
    .nullable()
    .default(null)
    .describe("What the render changes of the scene (agent/scripts/render.py applies it); null for an inspect task."),
});
export type ClaimedTask = z.infer<typeof claimedTaskSchema>;
export const claimRequestSchema = z.object({
  waitSeconds: z
    .number()
    .int()
    .min(0)
    .max(120)
    .default(0)
    .describe(
      "Hold the claim open until a task this worker may take appears, or this many seconds pass (the server caps it: CACTUS_CLAIM_WAIT_SECONDS). 0: answer at once.",
    ),
});
export const claimResponseSchema = z.object({ task: claimedTaskSchema });

/** The archives of the work the worker is likely to get next: its agent fetches them while it renders. */
export const nextArchivesResponseSchema = z.object({
  archives: z
    .array(claimedTaskSchema.shape.archive.omit({ id: true }))
    .describe("First first, each once; the agent may download these (GET /agent/archives/{hash}) before it holds a task of them."),
});

const leaseSchema = z.object({ leaseToken: z.uuid() });

export const heartbeatRequestSchema = leaseSchema.extend({
  progress: z.number().min(0).max(1),
  frame: z.number().int().optional(),
});
export const heartbeatResponseSchema = z.object({
  keepRunning: z.boolean().describe("False when the render was cancelled or paused: stop Blender and drop the task."),
  reason: z.string().optional(),
  leaseExpiresAt: z.iso.datetime().optional(),
});
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/** Query of a frame upload; the body is the image itself. */
export const frameUploadQuerySchema = z.object({
  leaseToken: z.uuid(),
  renderTimeMs: z.coerce.number().int().min(0),
});
export const frameResultSchema = z.object({
  frame: z.number().int(),
  accepted: z.boolean(),
  width: z.number().int(),
  height: z.number().int(),
  duplicate: z
    .boolean()
    .default(false)
    .describe("True (status 200) when the frame was already accepted: the first image stays, this one was not stored."),
});

export const completeRequestSchema = leaseSchema;
export const completeResponseSchema = z.object({ renderStatus: renderStatusSchema });
export const failRequestSchema = leaseSchema.extend({
  error: z.string().min(1).max(4000),
  logTail: z.string().max(64 * 1024).default(""),
});
export const failResponseSchema = z.object({
  taskStatus: z
    .enum(["queued", "failed"])
    .describe(
      "queued: for another worker. failed: a scene error, 3 different workers failed it, no other worker may take it, or the render failed too often.",
    ),
  renderStatus: renderStatusSchema.nullable().describe("Null for an inspect task."),
  workerBlocklisted: z.boolean().describe("This worker failed the render 3 times and gets no more of its tasks."),
  blame: z
    .enum(FAILURE_BLAMES)
    .describe("scene: an error in the scene every worker would hit; it failed the task and the render at once, and blames no worker."),
  because: z.enum(TASK_FAILED_BECAUSE).optional().describe("Why the task failed, when it did."),
});
export const releaseRequestSchema = leaseSchema;
export const releaseResponseSchema = z.object({ taskStatus: z.literal("queued") });

/**
 * Scene facts an inspect task reports (agent/scripts/inspect.py): the scene Blender renders
 * by default flat at the top, every scene under `scenes`, and what belongs to the whole
 * file. What agents before scenes were read one by one did not send is optional.
 */
export const sceneFactsSchema = sceneOfFileSchema.omit({ name: true }).extend({
  blenderVersion: z.string().nullable(),
  scene: z.string().optional().describe("The name of the scene Blender renders when told none."),
  border: renderBorderSchema.nullable().optional(),
  viewLayers: z.array(viewLayerSchema).optional(),
  scenes: z.array(sceneOfFileSchema).optional(),
  cameraObjects: z.array(z.string()).optional().describe("Camera objects anywhere in the file: what a render may choose."),
  hasScripts: z.boolean(),
  scripts: z.array(z.string()),
  missingFiles: z.array(z.string()),
});
export type SceneFacts = z.infer<typeof sceneFactsSchema>;
export const inspectionRequestSchema = leaseSchema.extend({ facts: sceneFactsSchema });
export const inspectionResponseSchema = z.object({ archiveId: z.number().int() });
