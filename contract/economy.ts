import { z } from "zod";
import { usernameSchema } from "./accounts";
import { outputFormatSchema, renderStatusSchema } from "./renders";

// Other people's workers with consent (docs/design.md §4, §5): requests a worker owner
// accepts or declines, their standing rule, the workers on a render with its owner's
// switches, and the hall of fame.

export const priceSchema = z.number().min(0).max(1_000_000).describe("Credits per work unit: the render's priority.");

export const changeRenderRequestSchema = z
  .object({
    price: priceSchema.optional(),
    onlyEnabledWorkers: z
      .boolean()
      .optional()
      .describe("Only workers I switch on render it; otherwise every worker whose owner accepted it may, unless I switch it off."),
  })
  .refine((value) => value.price !== undefined || value.onlyEnabledWorkers !== undefined, "Send a new price or onlyEnabledWorkers.");

export const topUpRequestSchema = z.object({
  credits: z.number().positive().max(1_000_000_000).describe("Credits to move from my balance into the render's escrow."),
});

export const renderRequestCardSchema = z.object({
  renderId: z.number().int(),
  owner: z.string().describe("Who asks."),
  status: renderStatusSchema,
  decision: z.enum(["accepted", "declined"]).nullable().describe("What I answered; null while it awaits me."),
  byRule: z.boolean().describe("My standing rule answered for me."),
  price: z.number().describe("Credits per WU it pays my workers."),
  scene: z.object({
    filename: z.string(),
    engine: z.string().nullable(),
    resolution: z.string().nullable().describe("e.g. 1920×1080 at 50 %."),
    samples: z.number().int().nullable(),
    frames: z.number().int(),
    frameRange: z.string(),
    format: outputFormatSchema,
    fileBytes: z.number().int(),
    hasScripts: z.boolean().nullable().describe("The file holds scripts (they never run: Blender starts with --disable-autoexec)."),
  }),
  quote: z
    .object({ totalWu: z.number(), band: z.object({ low: z.number(), high: z.number() }), credits: z.number().describe("At most: the band's top × price.") })
    .nullable(),
  requestedAt: z.iso.datetime(),
});
export type RenderRequestCardDto = z.infer<typeof renderRequestCardSchema>;
export const requestListSchema = z.object({ requests: z.array(renderRequestCardSchema) });

export const requestRuleSchema = z.object({
  minPrice: z.number().min(0).max(1_000_000).describe("Accept every render paying at least this many credits per WU."),
  from: z.array(usernameSchema).max(100).nullable().describe("Only from these people; null: from anyone."),
});
export type RequestRuleDto = z.infer<typeof requestRuleSchema>;
export const requestRuleAnswerSchema = z.object({ rule: requestRuleSchema.nullable() });

export const renderWorkerRowSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  owner: z.string(),
  mine: z.boolean(),
  wupm: z.number().nullable(),
  frames: z.number().int().describe("Frames of this render it rendered."),
  wu: z.number().describe("Their work units."),
  allowed: z.boolean().describe("Whether it may take this render's frames now, as far as my switch goes."),
  switched: z.boolean().nullable().describe("My switch for it on this render; null when never touched (the default applies)."),
});
export const renderWorkersSchema = z.object({
  renderId: z.number().int(),
  onlyEnabledWorkers: z.boolean(),
  workers: z.array(renderWorkerRowSchema),
});
export type RenderWorkersDto = z.infer<typeof renderWorkersSchema>;
export const switchRenderWorkerRequestSchema = z.object({ allowed: z.boolean() });

export const fameQuerySchema = z.object({
  period: z.enum(["all", "30d"]).default("all"),
  page: z.coerce.number().int().min(1).max(1000).default(1),
});
const contributorSchema = z.object({
  rank: z.number().int(),
  person: z.string(),
  machine: z.string(),
  wu: z.number(),
  renderSeconds: z.number(),
  frames: z.number().int(),
});
export const fameSchema = z.object({
  period: z.enum(["all", "30d"]),
  page: z.number().int(),
  pageSize: z.number().int(),
  byWu: z.array(contributorSchema).describe("Person and machine, by WU rendered for other people."),
  byTime: z.array(contributorSchema).describe("Person and machine, by time spent rendering for other people."),
  longestFrame: z
    .object({ person: z.string(), machine: z.string(), renderId: z.number().int(), frame: z.number().int(), seconds: z.number(), wu: z.number().nullable() })
    .nullable(),
  longestRender: z
    .object({ owner: z.string(), renderId: z.number().int(), seconds: z.number(), wu: z.number(), frames: z.number().int() })
    .nullable()
    .describe("The finished render that took longest from first frame to last, with its WU."),
});
export type FameDto = z.infer<typeof fameSchema>;
