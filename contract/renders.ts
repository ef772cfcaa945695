import { z } from "zod";
import { FRAMES_PER_TASK } from "../domain/frames";
import { OUTPUT_FORMATS } from "../domain/output-format";
import { RENDER_STATUSES } from "../domain/render-lifecycle";
import { FAILURE_BLAMES } from "../domain/blender-failure";
import { RENDER_OPTION_LIMITS } from "../domain/scene-check";
import { sha256Schema } from "./archives";

export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

export const renderStatusSchema = z.enum(RENDER_STATUSES);
export type RenderStatus = z.infer<typeof renderStatusSchema>;

/** `1-24`, `1-24:2` (every 2nd frame) or `7`; parsed by domain/frames.ts. */
export const frameRangeTextSchema = z
  .string()
  .trim()
  .regex(/^-?\d+(\s*-\s*-?\d+(\s*:\s*\d+)?)?$/, "Write frames as A-B, A-B:STEP or a single frame, e.g. 1-24.");

/** A scene, camera or view layer, by its name in the file. */
export const nameInFileSchema = z.string().trim().min(1).max(200);
const { resolutionPercentage: PERCENT, samples: SAMPLES } = RENDER_OPTION_LIMITS;
export const percentageSchema = z
  .number()
  .int("The resolution percentage is a whole number, e.g. 50.")
  .min(PERCENT.min, `The resolution percentage is at least ${PERCENT.min}.`)
  .max(PERCENT.max, `The resolution percentage is at most ${PERCENT.max}.`);
export const samplesSchema = z
  .number()
  .int("Samples are a whole number, e.g. 16.")
  .min(SAMPLES.min, `Samples are at least ${SAMPLES.min}.`)
  .max(SAMPLES.max, `Samples are at most ${SAMPLES.max.toLocaleString("en")}.`);

/** What a render changes of the scene it renders; null: as the file has it. */
export const renderOptionsSchema = z.object({
  scene: nameInFileSchema.nullable().describe("The scene to render instead of the one the file opens with."),
  camera: nameInFileSchema.nullable().describe("A camera object of the file to render through."),
  viewLayer: nameInFileSchema.nullable().describe("The only view layer to render (turned on even if the file has it off)."),
  resolutionPercentage: percentageSchema.nullable().describe("Percentage of the scene's resolution, e.g. 25 for quick previews."),
  samples: samplesSchema.nullable().describe("Samples per pixel (Cycles; Eevee's render samples)."),
});
export type RenderOptionsDto = z.infer<typeof renderOptionsSchema>;

export const renderRequestSchema = z
  .object({
    archiveId: z.number().int().positive().optional(),
    archiveHash: sha256Schema.optional(),
    frames: frameRangeTextSchema.optional().describe("Defaults to the scene's own frame range."),
    chunk: z.number().int().min(FRAMES_PER_TASK.min).max(FRAMES_PER_TASK.max).optional().describe("Consecutive frames per task (default 1)."),
    format: outputFormatSchema.default("PNG"),
    price: z.number().min(0).max(1_000_000).default(0).describe("Credits per work unit: the render's priority."),
    maxCredits: z
      .number()
      .positive()
      .max(1_000_000_000)
      .optional()
      .describe(
        "Pre-authorise up to this many credits: once quoted, the render is confirmed by itself (its upper bound put in escrow) " +
          "if the bound is within it, and otherwise waits quoted for a confirmation.",
      ),
    estimateOnly: z
      .boolean()
      .default(false)
      .describe("Stop at the quote: only the sample frames are rendered until POST /renders/{renderId}/confirm."),
    scene: nameInFileSchema.optional().describe("Render this scene of the file (422 when it has none of that name)."),
    camera: nameInFileSchema.optional().describe("Render through this camera object of the file."),
    viewLayer: nameInFileSchema.optional().describe("Render only this view layer."),
    resolutionPercentage: percentageSchema.optional().describe("Percentage of the scene's resolution."),
    samples: samplesSchema.optional().describe("Samples per pixel (Cycles, Eevee)."),
    strict: z.boolean().default(false).describe("Refuse (422) a scene that uses files missing from the archive, instead of warning."),
  })
  .refine((value) => (value.archiveId === undefined) !== (value.archiveHash === undefined), {
    message: "Name the archive by archiveId or by archiveHash (one of them).",
  });
export type RenderRequest = z.infer<typeof renderRequestSchema>;

export const frameCountsSchema = z.object({
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  rendering: z.number().int(),
  queued: z.number().int(),
});
export type FrameCounts = z.infer<typeof frameCountsSchema>;

export const renderWorkerSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  framesDone: z.number().int(),
  rendering: z.boolean(),
});

/** A range of WU: where the total (or a frame's WU) is likely to fall. */
export const wuBandSchema = z.object({ low: z.number(), high: z.number() });
export const creditsRangeSchema = z
  .object({ low: z.number(), mid: z.number(), high: z.number() })
  .describe("WU × the render's price: the band's low end, the estimate, the band's high end.");

export const renderEstimateSummarySchema = z.object({
  totalWu: z.number().describe("Work units the whole render is estimated to take: the frames done plus those predicted."),
  band: wuBandSchema,
  credits: creditsRangeSchema,
  etaSeconds: z
    .number()
    .int()
    .nullable()
    .describe(
      "Remaining WU ÷ the summed WUPM of the workers online now that will render it (the owner's, and other people's that " +
        "accepted it or whose standing rule accepts it); render time once it has begun; null when none is online.",
    ),
  framesMeasured: z.number().int().describe("Frames with a result and a WU: what the estimate is made from."),
  updatedAt: z.iso.datetime(),
});
export type RenderEstimateSummaryDto = z.infer<typeof renderEstimateSummarySchema>;

/** The scene a render renders, its options applied: read from the archive's facts. */
export const renderedSceneSchema = z.object({
  name: z.string(),
  engine: z.string(),
  camera: z.string().nullable(),
  viewLayers: z.array(z.string()).nullable().describe("The view layers that render; null when the inspection did not read them."),
  samples: z.number().int().nullable(),
  resolutionPercentage: z.number().int(),
  width: z.number().int().describe("Size of the frames."),
  height: z.number().int(),
});

export const renderSchema = z.object({
  id: z.number().int(),
  projectId: z.number().int(),
  archiveId: z.number().int(),
  archiveFilename: z.string(),
  status: renderStatusSchema,
  frameStart: z.number().int(),
  frameEnd: z.number().int(),
  frameStep: z.number().int(),
  chunkSize: z.number().int(),
  format: outputFormatSchema,
  options: renderOptionsSchema,
  scene: renderedSceneSchema.nullable().describe("What it renders, options applied; null while the archive's scene is not read."),
  warnings: z
    .array(z.string())
    .describe("What renders, but maybe not as meant: files the scene uses that the archive lacks, Python the farm never runs."),
  price: z.number().describe("Credits per WU: its priority."),
  escrow: z.number().describe("Credits it holds to pay other people's workers; what is left goes back when it ends."),
  maxCredits: z.number().nullable().describe("What its owner pre-authorised at request, if anything."),
  onlyEnabledWorkers: z.boolean().describe("Only workers its owner switched on may render it."),
  tasks: z.number().int(),
  frames: frameCountsSchema,
  workers: z.array(renderWorkerSchema),
  failure: z
    .string()
    .nullable()
    .describe(
      "Why the render failed, when it did (an error in the scene, Blender's line quoted; a frame no other worker may try; " +
        "too many failures in all); while it runs, the last error of a frame that failed and waits for another worker.",
    ),
  waiting: z
    .string()
    .nullable()
    .describe(
      "Why its queued frames wait for good unless the owner acts: none of their workers is enabled, the scene " +
        "denoises and no enabled worker's Blender has a denoiser, or none renders the scene's engine. Null while some worker can take them.",
    ),
  estimateOnly: z.boolean().describe("Its owner confirms the quote before more than the sample frames are rendered."),
  sample: z.object({
    frames: z.number().int().describe("Sample frames it renders first for its quote; 0 when it was too short to sample."),
    done: z.number().int(),
  }),
  estimate: renderEstimateSummarySchema.nullable().describe("Null until a frame has a WU."),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
});
export type RenderDto = z.infer<typeof renderSchema>;

export const curvePointSchema = z.object({
  frame: z.number().int().describe("A frame; past 200 frames a point stands for a run of frames, and this is its middle one."),
  wu: z.number().describe("WU per frame there: measured where frames have results, else read off the curve."),
  low: z.number().describe("The band there: where the curve could be, given what was measured around it."),
  high: z.number(),
  sampled: z.boolean().describe("A sample frame is among its frames."),
  done: z.boolean().describe("All its frames have a result."),
});
export type CurvePointDto = z.infer<typeof curvePointSchema>;

export const expectedStartSchema = z
  .object({
    price: z.number().describe("Credits per WU it was reckoned at."),
    wuAhead: z.number().describe("Remaining WU of the renders the workers that would take it hand out first (own renders, then dearer or older)."),
    rendersAhead: z.number().int(),
    unmeasuredAhead: z.number().int().describe("Renders ahead with nothing measured yet: their WU is not in wuAhead."),
    workers: z.number().int().describe("Workers online now that would take it."),
    othersWorkers: z.number().int().describe("How many of those are other people's, paid WU × price; the owner's own cost nothing."),
    startsInSeconds: z
      .number()
      .int()
      .nullable()
      .describe("wuAhead ÷ those workers' summed WUPM: when it would begin; null when none is online."),
  })
  .describe("Expected start at a price: the work ahead of it there, and so when it would begin.");
export type ExpectedStartDto = z.infer<typeof expectedStartSchema>;

export const renderEstimateSchema = z.object({
  renderId: z.number().int(),
  status: renderStatusSchema,
  sample: z.object({ frames: z.number().int(), done: z.number().int() }),
  frames: z.number().int(),
  price: z.number().describe("Credits per WU."),
  estimate: renderEstimateSummarySchema.nullable().describe("Null until a frame has a WU."),
  quote: z
    .object({ totalWu: z.number(), band: wuBandSchema, quotedAt: z.iso.datetime() })
    .nullable()
    .describe("The estimate when the sample frames were in, as it was quoted; null for a render that skipped sampling."),
  curve: z.array(curvePointSchema).describe("WU per frame across the timeline: one point per frame up to 200 frames."),
  expectedStart: expectedStartSchema
    .nullable()
    .describe("What is ahead of it at `expectedStart.price`, and when it would begin; null once it is finished."),
});
export type RenderEstimateDto = z.infer<typeof renderEstimateSchema>;

/** `?price=P`: the expected start at another price, before changing it. */
export const renderEstimateQuerySchema = z.object({
  price: z.coerce.number().min(0).max(1_000_000).optional().describe("Credits per WU to tell the expected start at (default: its price)."),
});

export const renderListSchema = z.object({ renders: z.array(renderSchema) });

export const frameSchema = z.object({
  frame: z.number().int(),
  status: z.enum(["queued", "rendering", "done", "failed", "cancelled"]),
  workerName: z.string().nullable(),
  renderTimeMs: z.number().int().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  filename: z.string().describe("The name the frame downloads as, e.g. shot_00012.png (also its name in the zip)."),
  bytes: z.number().int().nullable().describe("Size of the image once rendered: a download can skip a file it already has."),
});
export type FrameDto = z.infer<typeof frameSchema>;
export const frameListSchema = z.object({ frames: z.array(frameSchema) });

export const renderFailureSchema = z.object({
  taskId: z.number().int(),
  frameStart: z.number().int().describe("The task's frames: one, or a chunk."),
  frameEnd: z.number().int(),
  workerName: z.string(),
  error: z.string().describe("Blender's `Error:` lines, or why the agent or the server refused the result."),
  logTail: z.string().nullable().describe("The end of Blender's output, as the agent sent it."),
  blame: z
    .enum(FAILURE_BLAMES)
    .describe("scene: an error in the scene every worker would hit (it failed the render at once, no worker blamed); machine: the worker's."),
  at: z.iso.datetime(),
});
export type RenderFailureDto = z.infer<typeof renderFailureSchema>;
export const renderFailureListSchema = z.object({
  failures: z.array(renderFailureSchema).describe("Newest first, at most 100."),
  total: z.number().int().describe("How many failures the render has in all; the list holds the newest 100."),
});
export type RenderFailureListDto = z.infer<typeof renderFailureListSchema>;

/** Query of the frames list, their event stream and download: `frames=A-B` narrows them to those frames. */
export const framesQuerySchema = z.object({ frames: frameRangeTextSchema.optional() });
export const downloadQuerySchema = framesQuerySchema;
