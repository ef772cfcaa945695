import { QueryTypes, type Transaction } from "sequelize";
import { workerCapabilitiesSchema, type CreatedWorkerDto, type WorkerDto } from "../../contract";
import { Worker, type WorkerStatus } from "../../db/models";
import { requeueWorkerTasks } from "../../db/sql/workers";
import { tellWaitingClaims } from "../../db/sql/work-signals";
import { agentInstallLine } from "../../domain/install";
import { noteOwnerActivity } from "../lib/render-activity.server";
import { workerStatusNow } from "../../domain/worker-status";
import { iso } from "../lib/api.server";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { hashSecret, newSecret } from "../lib/secrets.server";

// A user's worker machines (docs/design.md §1): the owner's side. The agent's side (hello,
// claims) is app/models/agent.server.ts.

interface WorkerRow {
  id: number;
  name: string;
  enabled: boolean;
  status: WorkerStatus;
  paused_reason: string | null;
  last_seen_at: Date | null;
  blender_version: string | null;
  capabilities: Record<string, unknown> | null;
  threads: number | null;
  agent_version: string | null;
  wupm: number | null;
  wupm_measured_at: Date | null;
  created_at: Date;
  others_unsandboxed: boolean;
  holds_lease: boolean;
}

const SELECT_WORKERS = /* sql */ `
SELECT w.id, w.name, w.enabled, w.status, w.paused_reason, w.last_seen_at, w.blender_version, w.capabilities, w.threads,
       w.agent_version, w.wupm, w.created_at, w.others_unsandboxed,
       (SELECT b.created_at FROM worker_benchmarks b WHERE b.worker_id = w.id ORDER BY b.created_at DESC LIMIT 1) AS wupm_measured_at,
       EXISTS (SELECT 1 FROM tasks t WHERE t.worker_id = w.id AND t.status = 'leased' AND t.lease_expires_at > now()) AS holds_lease
  FROM workers w
 WHERE w.user_id = :userId`;

function toDto(row: WorkerRow): WorkerDto {
  // What the agent said in hello, wherever it was kept; anything unreadable is left out.
  const said = workerCapabilitiesSchema.partial().safeParse({
    ...row.capabilities,
    ...(row.threads !== null ? { threads: row.threads } : {}),
    ...(row.agent_version !== null ? { agentVersion: row.agent_version } : {}),
  });
  const status = workerStatusNow({ status: row.status, lastSeenAt: row.last_seen_at, holdsLease: row.holds_lease });
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    status,
    pausedReason: status === "paused" ? row.paused_reason : null,
    lastSeenAt: iso(row.last_seen_at),
    blenderVersion: row.blender_version,
    capabilities: said.success ? said.data : {},
    wupm: row.wupm,
    wupmMeasuredAt: iso(row.wupm_measured_at),
    othersUnsandboxed: row.others_unsandboxed,
    createdAt: row.created_at.toISOString(),
  };
}

async function selectWorkers(userId: number, where = "", replacements: object = {}, transaction?: Transaction) {
  const rows = await db().query<WorkerRow>(`${SELECT_WORKERS} ${where} ORDER BY lower(w.name), w.id`, {
    replacements: { userId, ...replacements },
    type: QueryTypes.SELECT,
    transaction,
  });
  return rows.map(toDto);
}

export function listWorkers(userId: number): Promise<WorkerDto[]> {
  return selectWorkers(userId);
}

/** One of the user's workers; another user's is as absent as one that never existed. */
export async function requireOwnWorker({ id, userId }: { id: number; userId: number }, transaction?: Transaction): Promise<WorkerDto> {
  const [worker] = await selectWorkers(userId, "AND w.id = :id", { id }, transaction);
  if (!worker) throw new Problem("not_found", `You have no worker ${id}. List yours with \`cactus worker list\`.`);
  return worker;
}

/**
 * Runs `change` while no other request of this user creates or renames a worker, so
 * two requests cannot both take a free name (the table has no unique index on it).
 */
function withWorkerNamesLocked<T>(userId: number, change: (transaction: Transaction) => Promise<T>): Promise<T> {
  return db().transaction(async (transaction) => {
    await db().query("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))", {
      replacements: { key: `worker-names:${userId}` },
      transaction,
    });
    return change(transaction);
  });
}

async function assertNameFree(userId: number, name: string, transaction: Transaction, exceptId = 0) {
  const [taken] = await db().query<{ id: number }>(
    `SELECT id FROM workers WHERE user_id = :userId AND lower(name) = lower(:name) AND id <> :exceptId`,
    { replacements: { userId, name, exceptId }, type: QueryTypes.SELECT, transaction },
  );
  if (taken) throw new Problem("conflict", `You already have a worker named "${name}" (worker ${taken.id}); choose another name.`);
}

/**
 * A new worker and its agent token: the token is answered this once, only its hash is kept;
 * with the line that installs its agent from the farm at `origin` (domain/install.ts), or
 * with a placeholder to replace when the server cannot tell its own address (publicOriginOrNull).
 */
export async function createWorker({
  userId,
  name,
  origin,
}: {
  userId: number;
  name: string;
  origin: string | null;
}): Promise<CreatedWorkerDto> {
  const token = newSecret("ccw");
  const worker = await withWorkerNamesLocked(userId, async (transaction) => {
    await assertNameFree(userId, name, transaction);
    const created = await Worker.create({ userId, name, tokenHash: hashSecret(token) }, { transaction });
    return requireOwnWorker({ id: created.id, userId }, transaction);
  });
  // The owner's renders that waited for a worker say so no more.
  noteOwnerActivity(userId);
  return { ...worker, token, agentInstall: agentInstallLine(origin ?? "http://THIS-SERVER:PORT", token) };
}

export async function updateWorker({
  id,
  userId,
  name,
  enabled,
  othersUnsandboxed,
}: {
  id: number;
  userId: number;
  name?: string;
  enabled?: boolean;
  othersUnsandboxed?: boolean;
}): Promise<WorkerDto> {
  const updated = await withWorkerNamesLocked(userId, async (transaction) => {
    await requireOwnWorker({ id, userId }, transaction);
    if (name !== undefined) await assertNameFree(userId, name, transaction, id);
    await Worker.update(
      {
        ...(name !== undefined ? { name } : {}),
        ...(enabled !== undefined ? { enabled } : {}),
        ...(othersUnsandboxed !== undefined ? { othersUnsandboxed } : {}),
      },
      { where: { id, userId }, transaction },
    );
    // A disabled worker's agent is refused from now on (403), so it can neither upload nor
    // complete what it holds: that goes back in the queue at once rather than when its
    // lease runs out. The agent stops Blender on its next heartbeat.
    if (enabled === false) await requeueWorkerTasks(db(), id, { transaction });
    // Let take other people's files: its held claim may find their renders now.
    if (othersUnsandboxed === true) await tellWaitingClaims(db(), { userId }, transaction);
    return requireOwnWorker({ id, userId }, transaction);
  });
  // Its frames went back in the queue, and the renders' `waiting` may say otherwise now.
  noteOwnerActivity(userId);
  return updated;
}

/**
 * Removes a worker: its token stops working at once, and a task it holds goes back in
 * the queue in the same transaction, for another worker (no failure is counted).
 */
export async function deleteWorker({ id, userId }: { id: number; userId: number }): Promise<void> {
  await db().transaction(async (transaction) => {
    const worker = await Worker.findOne({ where: { id, userId }, lock: transaction.LOCK.UPDATE, transaction });
    if (!worker) throw new Problem("not_found", `You have no worker ${id}. List yours with \`cactus worker list\`.`);
    await requeueWorkerTasks(db(), id, { transaction });
    await worker.destroy({ transaction });
  });
  noteOwnerActivity(userId);
}
