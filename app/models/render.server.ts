import { QueryTypes } from "sequelize";
import { sceneFactsSchema, type RenderDto, type RenderEstimateDto, type RenderOptionsDto, type RenderRequest } from "../../contract";
import { type Archive, Render, type OutputFormat, type RenderStatus } from "../../db/models";
import { checkRender, type RenderedScene, type SceneCheck } from "../../domain/scene-check";
import { fileFactsOf } from "../../domain/scene-facts";
import type { RenderEvent } from "../../domain/render-lifecycle";
import { WORKER_ENGINES, WORKER_HAS_DENOISER, workerCanRender } from "../../db/sql/common";
import { applyRenderEvent, confirmRender as confirmQuote, createRenderTasks, insertRender, NotEnoughCredits } from "../../db/sql/queue";
import { toCredits, toMilli } from "../../domain/ledger";
import { formatCredits } from "../../domain/work-units";
import { countFrames, FrameRangeError, formatFrameRange, parseFrameRange, splitIntoTasks, type FrameRange } from "../../domain/frames";
import { isRenderFinished, isRenderRunnable, UNFINISHED_RENDER_STATUSES } from "../../domain/render-lifecycle";
import { planSamples, sampleTasks } from "../../domain/sampling";
import { iso } from "../lib/api.server";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { fileFactsOfArchive, findUserArchiveByHash, getArchive } from "./archive.server";
import { estimatesOf, renderEstimate } from "./render-estimate.server";
import { progressOf } from "./render-progress.server";

// A user's renders (docs/design.md §1): requested from one of their archives, listed, followed,
// stopped. Every function is scoped to the owner: another user's render is not found.

interface RenderRow {
  id: number;
  project_id: number;
  archive_id: number;
  archive_filename: string;
  status: RenderStatus;
  frame_start: number;
  frame_end: number;
  frame_step: number;
  chunk_size: number;
  output_format: OutputFormat;
  price_milli: number;
  estimate_only: boolean;
  scene: string | null;
  camera: string | null;
  view_layer: string | null;
  resolution_percentage: number | null;
  samples: number | null;
  /** The archive's facts, when read (and not failed). */
  scene_facts: unknown;
  only_enabled_workers: boolean;
  escrow_milli: number | null;
  max_cost_milli: number | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const SELECT_RENDERS = /* sql */ `
SELECT r.id, r.project_id, r.archive_id, a.filename AS archive_filename, r.status, r.frame_start, r.frame_end,
       r.frame_step, r.chunk_size, r.output_format, r.price_milli, r.estimate_only, r.scene, r.camera, r.view_layer,
       r.resolution_percentage, r.samples, r.created_at, r.started_at, r.finished_at,
       CASE WHEN a.inspection_error IS NULL THEN a.scene_facts END AS scene_facts,
       r.only_enabled_workers, r.max_cost_milli, (SELECT balance_milli FROM accounts WHERE id = r.escrow_account_id) AS escrow_milli
  FROM renders r JOIN archives a ON a.id = r.archive_id
 WHERE r.created_by = :userId`;

async function selectRenders(userId: number, where = "", replacements: object = {}): Promise<RenderDto[]> {
  const rows = await db().query<RenderRow>(`${SELECT_RENDERS} ${where} ORDER BY r.created_at DESC, r.id DESC`, {
    replacements: { userId, ...replacements },
    type: QueryTypes.SELECT,
  });
  const [progress, estimates] = await Promise.all([
    progressOf(
      rows.map((row) => ({
        id: row.id,
        totalFrames: countFrames(rangeOf(row)),
        failed: row.status === "failed",
        running: !isRenderFinished(row.status),
        runnable: isRenderRunnable(row.status),
      })),
    ),
    estimatesOf(rows.map((row) => ({ id: row.id, status: row.status, priceMilli: Number(row.price_milli) }))),
  ]);
  return rows.map((row) => {
    const { tasks, frames, workers, failure, waiting } = progress.get(row.id)!;
    const { estimate, sample } = estimates.get(row.id)!;
    const options = optionsOf(row);
    const check = checkStored(row.scene_facts, options);
    return {
      id: row.id,
      projectId: row.project_id,
      archiveId: row.archive_id,
      archiveFilename: row.archive_filename,
      status: row.status,
      frameStart: row.frame_start,
      frameEnd: row.frame_end,
      frameStep: row.frame_step,
      chunkSize: row.chunk_size,
      format: row.output_format,
      options,
      scene: check?.scene ? renderedSceneDto(check.scene) : null,
      warnings: check?.warnings ?? [],
      price: toCredits(Number(row.price_milli)),
      escrow: toCredits(Number(row.escrow_milli ?? 0)),
      maxCredits: row.max_cost_milli === null ? null : toCredits(Number(row.max_cost_milli)),
      onlyEnabledWorkers: row.only_enabled_workers,
      tasks,
      frames,
      workers,
      failure,
      waiting,
      estimateOnly: row.estimate_only,
      sample,
      estimate,
      createdAt: row.created_at.toISOString(),
      startedAt: iso(row.started_at),
      finishedAt: iso(row.finished_at),
    };
  });
}

function optionsOf(row: RenderRow): RenderOptionsDto {
  return {
    scene: row.scene,
    camera: row.camera,
    viewLayer: row.view_layer,
    resolutionPercentage: row.resolution_percentage,
    samples: row.samples,
  };
}

/** The render's scene and warnings, read again from the archive's facts (null before they are known). */
function checkStored(stored: unknown, options: RenderOptionsDto): SceneCheck | null {
  const parsed = sceneFactsSchema.safeParse(stored);
  return parsed.success ? checkRender(fileFactsOf(parsed.data), options) : null;
}

function renderedSceneDto({ name, engine, camera, viewLayers, samples, resolutionPercentage, width, height }: RenderedScene) {
  return { name, engine, camera, viewLayers, samples, resolutionPercentage, width, height };
}

const rangeOf = (row: { frame_start: number; frame_end: number; frame_step: number }): FrameRange => ({
  start: row.frame_start,
  end: row.frame_end,
  step: row.frame_step,
});

export function listRenders(userId: number): Promise<RenderDto[]> {
  return selectRenders(userId);
}

/** Some of the user's renders: these ids, or the unfinished ones (what a live list follows). */
export function listRendersById(userId: number, which: { ids: number[] } | { unfinished: true }): Promise<RenderDto[]> {
  if ("ids" in which) {
    return which.ids.length === 0 ? Promise.resolve([]) : selectRenders(userId, "AND r.id IN (:ids)", { ids: which.ids });
  }
  return selectRenders(userId, "AND r.status IN (:unfinished)", { unfinished: UNFINISHED_RENDER_STATUSES });
}

export function noSuchRender(id: number): Problem {
  return new Problem("not_found", `You have no render ${id}. List yours with \`cactus render list\`.`);
}

export async function requireRender({ id, userId }: { id: number; userId: number }): Promise<RenderDto> {
  const [render] = await selectRenders(userId, "AND r.id = :id", { id });
  if (!render) throw noSuchRender(id);
  return render;
}

/** The render's row, when it is the user's. */
export async function requireRenderRow({ id, userId }: { id: number; userId: number }): Promise<Render> {
  const render = await Render.findOne({ where: { id, createdBy: userId } });
  if (!render) throw noSuchRender(id);
  return render;
}

async function requireArchive(userId: number, request: RenderRequest): Promise<Archive> {
  if (request.archiveHash !== undefined) {
    const archive = await findUserArchiveByHash(userId, request.archiveHash);
    if (!archive) {
      throw new Problem("not_found", `You have no archive with sha256 ${request.archiveHash}; upload it with \`cactus archive upload\`.`);
    }
    return archive;
  }
  const id = request.archiveId!;
  const archive = await getArchive({ id, userId });
  if (!archive) throw new Problem("not_found", `You have no archive ${id}; see \`cactus archive list --project <project>\`.`);
  return archive;
}

/** The frames asked for, or else the range of the scene it renders once an agent has read it. */
function framesToRender(archive: Archive, frames: string | undefined, scene: RenderedScene | null): FrameRange {
  if (frames !== undefined) return parseFrameRange(frames);
  // An archive read before scenes were (columns, no facts to check) has its range all the same.
  const readBefore = archive.inspectedAt && archive.frameStart !== null && archive.frameEnd !== null;
  const step = Number((archive.sceneFacts as { frameStep?: unknown } | null)?.frameStep) || 1;
  const known = scene ?? (readBefore ? { frameStart: archive.frameStart!, frameEnd: archive.frameEnd!, frameStep: step } : null);
  if (known) {
    // The same limits as a range someone typed: a scene of 200 000 frames needs a narrower one.
    return parseFrameRange(formatFrameRange({ start: known.frameStart, end: known.frameEnd, step: Math.max(1, known.frameStep) }));
  }
  throw new Problem("unprocessable", `The scene's frame range is not known yet (${notReadYet(archive)}); give --frames, e.g. --frames 1-24.`);
}

function notReadYet(archive: Archive): string {
  return archive.inspectionError
    ? `reading archive ${archive.id}'s scene failed (${archive.inspectionError})`
    : `archive ${archive.id} waits for one of your agents to read its scene`;
}

const OPTION_FLAGS: Record<keyof RenderOptionsDto | "strict", string> = {
  scene: "--scene",
  camera: "--camera",
  viewLayer: "--view-layer",
  resolutionPercentage: "--resolution-percentage",
  samples: "--samples",
  strict: "--strict",
};

/**
 * Checks a request against the archive's facts (domain/scene-check.ts): a scene Blender
 * cannot make an image of is refused with a 422 that says what to do. Before an agent
 * read the scene nothing can be checked: a plain request goes ahead as before, but
 * options (and strict) need the facts to be checked against.
 */
function checkRequest(archive: Archive, request: RenderRequest): SceneCheck | null {
  const facts = fileFactsOfArchive(archive);
  if (!facts) {
    const asked = (Object.keys(OPTION_FLAGS) as (keyof typeof OPTION_FLAGS)[]).filter((key) =>
      key === "strict" ? request.strict : request[key] !== undefined,
    );
    if (asked.length === 0) return null;
    throw new Problem(
      "unprocessable",
      `${asked.map((key) => OPTION_FLAGS[key]).join(", ")} need${asked.length === 1 ? "s" : ""} the scene's facts, and ${notReadYet(archive)}; ` +
        `request it again once \`cactus archive show ${archive.id}\` shows them, or without ${asked.length === 1 ? "it" : "them"}.`,
    );
  }
  const check = checkRender(facts, request, { strict: request.strict });
  if (check.refusals.length > 0) throw new Problem("unprocessable", check.refusals.join(" "));
  return check;
}

/**
 * The owner's workers that may take the render's frames, by the claim's own rule (a
 * denoiser when the scene denoises, the scene's engine among those it renders): one
 * sample frame per point for each (up to 3).
 */
async function eligibleWorkers(userId: number, render: { needsDenoiser: boolean; engine: string | null }): Promise<number> {
  const [row] = await db().query<{ count: number }>(
    `SELECT count(*)::int AS count
       FROM workers w, (SELECT :needsDenoiser::boolean AS needs_denoiser, :engine::text AS engine) r
      WHERE w.user_id = :userId AND w.enabled AND ${workerCanRender("r", WORKER_HAS_DENOISER("w"), WORKER_ENGINES("w"))}`,
    { replacements: { userId, ...render }, type: QueryTypes.SELECT },
  );
  return row.count;
}

/**
 * Requests a render. It starts `estimating` with only its sample frames as tasks (the
 * rest are queued when its quote is confirmed, decision 014); a render too short to
 * sample is queued whole at once. Tasks are made in the render's transaction, so a render
 * never exists without them.
 */
export async function requestRender({ userId, request }: { userId: number; request: RenderRequest }): Promise<RenderDto> {
  const archive = await requireArchive(userId, request);
  const check = checkRequest(archive, request);
  const scene = check?.scene ?? null;
  let range: FrameRange;
  let tasks: ReturnType<typeof splitIntoTasks>;
  try {
    range = framesToRender(archive, request.frames, scene);
    tasks = splitIntoTasks(range, request.chunk ?? 1);
  } catch (error) {
    if (error instanceof FrameRangeError) throw new Problem("bad_request", error.message);
    throw error;
  }
  // The scene as rendered (its options applied) decides who may render it, as the claim will.
  const needsDenoiser = scene?.denoising ?? archive.denoising === true;
  const engine = scene?.engine ?? null;
  const estimateOnly = request.estimateOnly ?? false;
  const sample = planSamples(range, { workers: await eligibleWorkers(userId, { needsDenoiser, engine }), estimateOnly });
  const id = await db().transaction(async (transaction) => {
    const render = await insertRender(
      db(),
      {
        archiveId: archive.id,
        projectId: archive.projectId,
        createdBy: userId,
        frameStart: range.start,
        frameEnd: range.end,
        frameStep: range.step,
        chunkSize: request.chunk ?? 1,
        outputFormat: request.format,
        priceMilli: toMilli(request.price),
        maxCostMilli: request.maxCredits === undefined ? null : toMilli(request.maxCredits),
        needsDenoiser,
        sampleFrames: sample ?? [],
        estimateOnly,
        scene: request.scene ?? null,
        camera: request.camera ?? null,
        viewLayer: request.viewLayer ?? null,
        resolutionPercentage: request.resolutionPercentage ?? null,
        samples: request.samples ?? null,
        engine,
        outputWidth: scene && scene.width > 0 ? scene.width : null,
        outputHeight: scene && scene.height > 0 ? scene.height : null,
      },
      transaction,
    );
    await createRenderTasks(db(), render.id, sample ? sampleTasks(sample) : tasks, { transaction });
    return render.id;
  });
  return requireRender({ id, userId });
}

export type RenderChange = "cancel" | "pause" | "resume" | "confirm";

const EVENTS: Record<Exclude<RenderChange, "confirm">, RenderEvent> = { cancel: "cancelled", pause: "paused", resume: "resumed" };

/**
 * Cancels, pauses, resumes or confirms (its quote) one of the user's renders; a change
 * that makes no sense now is a conflict.
 */
export async function changeRender({ id, userId, change }: { id: number; userId: number; change: RenderChange }): Promise<RenderDto> {
  await requireRenderRow({ id, userId });
  const applied = change === "confirm" ? await confirmWithEscrow(id) : await applyRenderEvent(db(), id, EVENTS[change]);
  if (!applied) {
    const { status } = await requireRenderRow({ id, userId });
    throw new Problem("conflict", refusal(id, change, status));
  }
  return requireRender({ id, userId });
}

/** Confirms the quote; the owner's balance must pay its upper bound into the escrow. */
async function confirmWithEscrow(id: number) {
  try {
    return await confirmQuote(db(), id);
  } catch (error) {
    if (!(error instanceof NotEnoughCredits)) throw error;
    throw new Problem(
      "conflict",
      `Confirming render ${id} puts ${formatCredits(toCredits(error.neededMilli))} credits (the quote's upper bound at its price) in escrow, ` +
        `and your balance is ${formatCredits(toCredits(error.balanceMilli))}; lower its price (\`cactus render price ${id} P\`) or ask an admin for credits.`,
    );
  }
}

function refusal(id: number, change: RenderChange, status: RenderStatus): string {
  if (change === "cancel") return `Render ${id} is already ${status}; there is nothing to cancel.`;
  if (change === "confirm") {
    if (status === "estimating") {
      return `Render ${id} is still rendering its sample frames; confirm it once it is quoted (\`cactus render estimate ${id}\` shows how far).`;
    }
    return `Render ${id} is ${status}, not quoted; only a quoted render waits for a confirmation.`;
  }
  if (change === "resume") {
    return `Render ${id} is ${status}, not paused; only a paused render can be resumed.`;
  }
  if (status === "paused") return `Render ${id} is already paused; \`cactus render resume ${id}\` hands its frames out again.`;
  if (isRenderFinished(status)) return `Render ${id} is ${status}; only a render that is still running can be paused.`;
  return `Render ${id} is ${status}; it can be paused once it is queued or rendering.`;
}

/** The estimate of one of the user's renders, with its curve, its quote and its expected start (at `price`, default its own). */
export async function getRenderEstimate({ id, userId, price }: { id: number; userId: number; price?: number }): Promise<RenderEstimateDto> {
  const render = await requireRenderRow({ id, userId });
  const priceMilli = Number(render.priceMilli);
  return renderEstimate(
    { id, status: render.status, priceMilli, frames: countFrames({ start: render.frameStart, end: render.frameEnd, step: render.frameStep }) },
    price === undefined ? priceMilli : toMilli(price),
  );
}
