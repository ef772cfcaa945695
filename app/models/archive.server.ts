import { ForeignKeyConstraintError, UniqueConstraintError, type Transaction } from "sequelize";
import { sceneFactsSchema, type ArchiveDto, type ArchiveFacts } from "../../contract";
import { checkRender } from "../../domain/scene-check";
import { type FileFacts, fileFactsOf, sceneNamed } from "../../domain/scene-facts";
import { Archive, Project, type ArchiveKind, type BlendCompression } from "../../db/models";
import { createInspectTask } from "../../db/sql/queue";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { getRuntime } from "../lib/runtime.server";
import { archiveKey } from "../lib/storage.server";

/**
 * The file's facts as the rules of domain/ read them, once an agent read the scene (null
 * before, or when reading failed). Facts stored by older agents fill in what they lack.
 */
export function fileFactsOfArchive(archive: Archive): FileFacts | null {
  if (!archive.inspectedAt || archive.inspectionError || !archive.sceneFacts) return null;
  const stored = sceneFactsSchema.safeParse(archive.sceneFacts);
  return stored.success ? fileFactsOf(stored.data) : null;
}

export function toArchiveDto(archive: Archive): ArchiveDto {
  const file = fileFactsOfArchive(archive);
  const active = file ? sceneNamed(file, null) : undefined;
  const facts: ArchiveFacts = {
    blenderVersion: archive.blenderVersion ?? null,
    compression: archive.compression ?? null,
    scene: file?.scene ?? null,
    frameStart: archive.frameStart ?? null,
    frameEnd: archive.frameEnd ?? null,
    frameStep: active?.frameStep ?? null,
    fps: archive.fps ?? null,
    resolutionX: archive.resolutionX ?? null,
    resolutionY: archive.resolutionY ?? null,
    resolutionPercentage: archive.resolutionPercentage ?? null,
    outputWidth: active?.outputWidth ?? null,
    outputHeight: active?.outputHeight ?? null,
    engine: archive.engine ?? null,
    samples: archive.samples ?? null,
    denoising: archive.denoising ?? null,
    outputFormat: active?.outputFormat ?? null,
    activeCamera: active?.activeCamera ?? null,
    cameras: active?.cameras ?? null,
    viewLayers: active?.viewLayers ?? null,
    hasScripts: archive.hasScripts ?? null,
    scripts: file?.scripts ?? null,
    missingFiles: file?.missingFiles ?? null,
    cameraObjects: file?.cameraObjects ?? null,
    scenes: file ? file.scenes.map((scene) => ({ ...scene, viewLayers: scene.viewLayers ?? [] })) : null,
  };
  const check = file ? checkRender(file) : null;
  return {
    id: archive.id,
    projectId: archive.projectId,
    filename: archive.filename,
    hash: archive.hash,
    size: Number(archive.size),
    kind: archive.kind,
    mainPath: archive.mainPath ?? null,
    facts,
    inspection: {
      status: archive.inspectionError ? "failed" : archive.inspectedAt ? "done" : "waiting",
      error: archive.inspectionError ?? null,
      at: archive.inspectedAt ? archive.inspectedAt.toISOString() : null,
    },
    sceneCheck: check && { refusals: check.refusals, warnings: check.warnings },
    createdAt: archive.createdAt.toISOString(),
  };
}

/** Archives of a project, newest first; the caller has checked the project is the user's. */
export function listProjectArchives(projectId: number): Promise<Archive[]> {
  return Archive.findAll({ where: { projectId }, order: [["createdAt", "DESC"], ["id", "DESC"]] });
}

/** One of the user's archives; another user's is as absent as one that never existed. */
export function getArchive({ id, userId }: { id: number; userId: number }): Promise<Archive | null> {
  return Archive.findOne({
    where: { id },
    include: [{ model: Project, as: "project", where: { userId }, attributes: [] }],
  });
}

export function findProjectArchiveByHash(projectId: number, hash: string): Promise<Archive | null> {
  return Archive.findOne({ where: { projectId, hash } });
}

/** An archive of these bytes in any of the user's projects: only the user's own, so a hash reveals nothing of others' files. */
export function findUserArchiveByHash(userId: number, hash: string): Promise<Archive | null> {
  return Archive.findOne({
    where: { hash },
    include: [{ model: Project, as: "project", where: { userId }, attributes: [] }],
    order: [["id", "ASC"]],
  });
}

/**
 * Serialises everything that decides whether a blob is referenced: storing a new row
 * for a hash and removing the blob of a hash no row refers to any more.
 */
function withHashLock<T>(hash: string, run: (transaction: Transaction) => Promise<T>): Promise<T> {
  return db().transaction(async (transaction) => {
    await db().query("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))", {
      replacements: { key: `archive:${hash}` },
      transaction,
    });
    return run(transaction);
  });
}

const SCENE_FACT_COLUMNS = [
  "frameStart",
  "frameEnd",
  "fps",
  "resolutionX",
  "resolutionY",
  "resolutionPercentage",
  "engine",
  "samples",
  "denoising",
  "hasScripts",
  "sceneFacts",
] as const;
type SceneFacts = Partial<Pick<Archive, (typeof SCENE_FACT_COLUMNS)[number] | "inspectedAt">>;

/** What inspecting these bytes found, to carry over to another row of the same bytes. */
export function sceneFactsOf(archive: Archive): SceneFacts {
  const facts: SceneFacts = Object.fromEntries(SCENE_FACT_COLUMNS.map((column) => [column, archive[column]]));
  // Facts read from the same bytes need no second reading; a reading that failed is tried again.
  return { ...facts, inspectedAt: archive.inspectionError ? null : archive.inspectedAt };
}

export interface NewArchive extends SceneFacts {
  projectId: number;
  uploadedBy: number;
  filename: string;
  hash: string;
  size: number;
  kind: ArchiveKind;
  mainPath: string | null;
  blenderVersion: string | null;
  compression: BlendCompression | null;
}

export interface StoredArchive {
  archive: Archive;
  /** True when this project already held these bytes and no row was added. */
  deduplicated: boolean;
}

/**
 * Moves a verified upload under its content address and records it. With `temporaryFile`
 * null the bytes are already stored (a dedupe). If the row cannot be written, a blob this
 * call put there is removed again.
 */
export async function storeArchive(input: NewArchive, temporaryFile: string | null): Promise<StoredArchive> {
  const { storage } = getRuntime();
  const key = archiveKey(input.hash);
  try {
    return await withHashLock(input.hash, async (transaction) => {
      const existing = await Archive.findOne({ where: { projectId: input.projectId, hash: input.hash }, transaction });
      if (existing) return { archive: existing, deduplicated: true };
      const hadBlob = await storage.exists(key);
      if (temporaryFile) await storage.commit(temporaryFile, key);
      // The bytes of a row can go missing from the disk; the client then sends them again.
      else if (!hadBlob) throw noSuchBytes(input.hash);
      try {
        const archive = await Archive.create({ ...input, storageKey: key }, { transaction });
        // One of the owner's agents reads the scene facts (frame range, size, engine…).
        if (!archive.inspectedAt) await createInspectTask(db(), archive.id, { transaction });
        return { archive, deduplicated: false };
      } catch (error) {
        if (!hadBlob) await storage.remove(key);
        throw error;
      }
    });
  } catch (error) {
    // A concurrent upload of the same bytes into the same project won the insert.
    if (error instanceof UniqueConstraintError) {
      const winner = await findProjectArchiveByHash(input.projectId, input.hash);
      if (winner) return { archive: winner, deduplicated: true };
    }
    // The project was deleted while its upload was on its way (its row lock made us wait).
    if (error instanceof ForeignKeyConstraintError) {
      throw new Problem(
        "not_found",
        `Project ${input.projectId} was deleted while the file was uploading; nothing was stored. Create a project and upload it there.`,
      );
    }
    throw error;
  }
}

/** "Do you have H?" answered no: the same words whether nobody, someone else or no disk has the bytes. */
export function noSuchBytes(hash: string): Problem {
  return new Problem("not_found", `The server has no file with sha256 ${hash} of yours; upload the bytes.`);
}

/** The keys of the newest archives' blobs, newest first: what a server looks for at start (app/lib/blob-check.server.ts). */
export async function newestArchiveBlobs(limit: number): Promise<{ id: number; key: string }[]> {
  const rows = await Archive.findAll({ attributes: ["id", "storageKey"], order: [["id", "DESC"]], limit });
  return rows.map((row) => ({ id: row.id, key: row.storageKey }));
}

/** Removes the blobs of these hashes that no archive row refers to any more. */
export async function removeUnreferencedBlobs(hashes: string[]): Promise<void> {
  const { storage } = getRuntime();
  for (const hash of hashes) {
    await withHashLock(hash, async (transaction) => {
      const references = await Archive.count({ where: { hash }, transaction });
      if (references === 0) await storage.remove(archiveKey(hash));
    });
  }
}
