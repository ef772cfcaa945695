import { Op, QueryTypes, UniqueConstraintError, type Transaction } from "sequelize";
import type { ProjectDto } from "../../contract";
import { Archive, Project, Render } from "../../db/models";
import { UNFINISHED_RENDER_STATUSES } from "../../domain/render-lifecycle";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { removeUnreferencedBlobs } from "./archive.server";

interface ProjectRow {
  id: number;
  name: string;
  createdAt: Date;
  archiveCount: number;
}

function toDto(row: ProjectRow): ProjectDto {
  return { id: row.id, name: row.name, archiveCount: Number(row.archiveCount), createdAt: row.createdAt.toISOString() };
}

const SELECT_PROJECTS = `
  SELECT p.id, p.name, p.created_at AS "createdAt",
         (SELECT count(*) FROM archives a WHERE a.project_id = p.id)::int AS "archiveCount"
  FROM projects p
  WHERE p.user_id = :userId`;

export async function listProjects(userId: number): Promise<ProjectDto[]> {
  const rows = await db().query<ProjectRow>(`${SELECT_PROJECTS} ORDER BY lower(p.name), p.id`, {
    replacements: { userId },
    type: QueryTypes.SELECT,
  });
  return rows.map(toDto);
}

/** One of the user's projects; another user's is as absent as one that never existed. */
export async function getProject({ id, userId }: { id: number; userId: number }): Promise<ProjectDto | null> {
  const [row] = await db().query<ProjectRow>(`${SELECT_PROJECTS} AND p.id = :id`, {
    replacements: { userId, id },
    type: QueryTypes.SELECT,
  });
  return row ? toDto(row) : null;
}

export async function requireProject(where: { id: number; userId: number }): Promise<ProjectDto> {
  const project = await getProject(where);
  if (!project) throw new Problem("not_found", `You have no project ${where.id}. List yours with \`cactus project list\`.`);
  return project;
}

function nameTaken(name: string): Problem {
  return new Problem("conflict", `You already have a project named "${name}"; choose another name.`);
}

async function assertNameFree(userId: number, name: string, exceptId?: number, transaction?: Transaction) {
  const taken = await Project.findOne({
    where: {
      userId,
      ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}),
      [Op.and]: [db().where(db().fn("lower", db().col("name")), name.toLowerCase())],
    },
    transaction,
  });
  if (taken) throw nameTaken(name);
}

/** Names are unique per owner ignoring case; the unique index settles a race between two requests. */
export async function createProject({ userId, name }: { userId: number; name: string }): Promise<ProjectDto> {
  await assertNameFree(userId, name);
  try {
    const project = await Project.create({ userId, name });
    return toDto({ id: project.id, name: project.name, createdAt: project.createdAt, archiveCount: 0 });
  } catch (error) {
    if (error instanceof UniqueConstraintError) throw nameTaken(name);
    throw error;
  }
}

export async function renameProject({ id, userId, name }: { id: number; userId: number; name: string }): Promise<ProjectDto> {
  await requireProject({ id, userId });
  await assertNameFree(userId, name, id);
  try {
    await Project.update({ name }, { where: { id, userId } });
  } catch (error) {
    if (error instanceof UniqueConstraintError) throw nameTaken(name);
    throw error;
  }
  return requireProject({ id, userId });
}

/**
 * Deletes a project, its finished renders and its archives, unless one of its renders
 * still runs. Blobs go only once no archive anywhere refers to their hash.
 */
export async function deleteProject({ id, userId }: { id: number; userId: number }): Promise<void> {
  const hashes = await db().transaction(async (transaction) => {
    // The row lock makes a render created meanwhile wait for this decision.
    const project = await Project.findOne({ where: { id, userId }, lock: transaction.LOCK.UPDATE, transaction });
    if (!project) throw new Problem("not_found", `You have no project ${id}. List yours with \`cactus project list\`.`);
    const running = await Render.count({
      where: { projectId: id, status: { [Op.in]: UNFINISHED_RENDER_STATUSES } },
      transaction,
    });
    if (running > 0) {
      throw new Problem(
        "conflict",
        `Project "${project.name}" has ${running} render${running === 1 ? "" : "s"} still running; cancel ${
          running === 1 ? "it" : "them"
        } first, then delete the project.`,
      );
    }
    const archives = await Archive.findAll({ where: { projectId: id }, attributes: ["hash"], transaction });
    await Render.destroy({ where: { projectId: id }, transaction });
    await Archive.destroy({ where: { projectId: id }, transaction });
    await project.destroy({ transaction });
    return [...new Set(archives.map((archive) => archive.hash))];
  });
  await removeUnreferencedBlobs(hashes);
}
