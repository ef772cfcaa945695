import {
  DataTypes,
  Model,
  type CreationOptional,
  type ForeignKey,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
} from "sequelize";
import type { ArchiveKind, BlendCompression } from "../../domain/blend-header";
import type { OutputFormat } from "../../domain/output-format";
import type { RenderStatus } from "../../domain/render-lifecycle";
import type { TaskStatus } from "../../domain/scheduler";
import type { WorkerStatus } from "../../domain/worker-status";

// Models mirror db/migrations exactly; the migrations own the schema (sync() is never
// called), the models give typed access to it.

type Attrs<M extends Model> = InferAttributes<M>;
type Creation<M extends Model> = InferCreationAttributes<M>;

export class Setting extends Model<Attrs<Setting>, Creation<Setting>> {
  declare key: string;
  declare value: unknown;
  declare updatedAt: CreationOptional<Date>;
}

export type Role = "admin" | "user";

export class User extends Model<Attrs<User>, Creation<User>> {
  declare id: CreationOptional<number>;
  declare username: string;
  declare passwordHash: string;
  declare role: CreationOptional<Role>;
  declare notificationPreferences: CreationOptional<Record<string, boolean>>;
  declare createdAt: CreationOptional<Date>;
}

export type AccountKind = "user" | "escrow" | "system";

export class Account extends Model<Attrs<Account>, Creation<Account>> {
  declare id: CreationOptional<number>;
  declare kind: AccountKind;
  declare userId: ForeignKey<User["id"]> | null;
  declare balanceMilli: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
}

export class Invitation extends Model<Attrs<Invitation>, Creation<Invitation>> {
  declare id: CreationOptional<number>;
  declare fromUserId: ForeignKey<User["id"]>;
  declare email: string;
  declare codeHash: string;
  declare expiresAt: Date;
  declare usedByUserId: CreationOptional<number | null>;
  declare usedAt: CreationOptional<Date | null>;
  declare creditsMilli: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
}

export class ApiToken extends Model<Attrs<ApiToken>, Creation<ApiToken>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User["id"]>;
  declare name: string;
  declare tokenHash: string;
  declare lastUsedAt: CreationOptional<Date | null>;
  declare revokedAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
}

export type SessionEndReason = "signed-out" | "ended-elsewhere" | "password-changed";

export class Session extends Model<Attrs<Session>, Creation<Session>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User["id"]>;
  declare secretHash: string;
  declare userAgent: CreationOptional<string | null>;
  declare ip: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
  declare lastSeenAt: CreationOptional<Date>;
  declare expiresAt: Date;
  declare revokedAt: CreationOptional<Date | null>;
  declare endedWhy: CreationOptional<SessionEndReason | null>;
}

export class Project extends Model<Attrs<Project>, Creation<Project>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User["id"]>;
  declare name: string;
  declare createdAt: CreationOptional<Date>;
}

export type { ArchiveKind, BlendCompression };

export class Archive extends Model<Attrs<Archive>, Creation<Archive>> {
  declare id: CreationOptional<number>;
  declare projectId: ForeignKey<Project["id"]>;
  declare uploadedBy: ForeignKey<User["id"]>;
  declare filename: string;
  declare hash: string;
  declare size: number;
  declare kind: ArchiveKind;
  declare mainPath: CreationOptional<string | null>;
  declare storageKey: string;
  declare blenderVersion: CreationOptional<string | null>;
  declare compression: CreationOptional<BlendCompression | null>;
  declare frameStart: CreationOptional<number | null>;
  declare frameEnd: CreationOptional<number | null>;
  declare fps: CreationOptional<number | null>;
  declare resolutionX: CreationOptional<number | null>;
  declare resolutionY: CreationOptional<number | null>;
  declare resolutionPercentage: CreationOptional<number | null>;
  declare engine: CreationOptional<string | null>;
  declare samples: CreationOptional<number | null>;
  declare denoising: CreationOptional<boolean | null>;
  declare hasScripts: CreationOptional<boolean | null>;
  declare sceneFacts: CreationOptional<Record<string, unknown> | null>;
  declare inspectedAt: CreationOptional<Date | null>;
  declare inspectionError: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
}

export type { WorkerStatus };

export class Worker extends Model<Attrs<Worker>, Creation<Worker>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User["id"]>;
  declare name: string;
  declare enabled: CreationOptional<boolean>;
  declare tokenHash: string;
  declare wupm: CreationOptional<number | null>;
  declare blenderVersion: CreationOptional<string | null>;
  declare capabilities: CreationOptional<Record<string, unknown>>;
  declare threads: CreationOptional<number | null>;
  declare agentVersion: CreationOptional<string | null>;
  declare othersUnsandboxed: CreationOptional<boolean>;
  declare schedule: CreationOptional<string | null>;
  declare status: CreationOptional<WorkerStatus>;
  declare pausedReason: CreationOptional<string | null>;
  declare lastSeenAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
}

export class WorkerBenchmark extends Model<Attrs<WorkerBenchmark>, Creation<WorkerBenchmark>> {
  declare id: CreationOptional<number>;
  declare workerId: ForeignKey<Worker["id"]>;
  declare wupm: number;
  declare blenderVersion: string;
  declare hardware: CreationOptional<Record<string, unknown>>;
  /** One render of the reference frame (the run's median), the run's renders, their spread and its wall time. */
  declare seconds: CreationOptional<number | null>;
  declare renders: CreationOptional<number | null>;
  declare spread: CreationOptional<number | null>;
  declare wallSeconds: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
}

export type { OutputFormat, RenderStatus };

export class Render extends Model<Attrs<Render>, Creation<Render>> {
  declare id: CreationOptional<number>;
  declare archiveId: ForeignKey<Archive["id"]>;
  declare projectId: ForeignKey<Project["id"]>;
  declare createdBy: ForeignKey<User["id"]>;
  declare frameStart: number;
  declare frameEnd: number;
  declare frameStep: CreationOptional<number>;
  declare chunkSize: CreationOptional<number>;
  declare outputFormat: OutputFormat;
  declare status: RenderStatus;
  declare priceMilli: CreationOptional<number>;
  declare maxCostMilli: CreationOptional<number | null>;
  declare onlyEnabledWorkers: CreationOptional<boolean>;
  declare needsDenoiser: CreationOptional<boolean>;
  /** The render's options (migration 0010); null: the file's own. */
  declare scene: CreationOptional<string | null>;
  declare camera: CreationOptional<string | null>;
  declare viewLayer: CreationOptional<string | null>;
  declare resolutionPercentage: CreationOptional<number | null>;
  declare samples: CreationOptional<number | null>;
  /** The scene's engine and the frames' size, once the archive's scene is read. */
  declare engine: CreationOptional<string | null>;
  declare outputWidth: CreationOptional<number | null>;
  declare outputHeight: CreationOptional<number | null>;
  declare escrowAccountId: CreationOptional<number | null>;
  /** The quote: the estimate when the sample frames were in (db/sql/render-status.ts). */
  declare estimate: CreationOptional<Record<string, unknown> | null>;
  declare sampleFrames: CreationOptional<number[]>;
  declare estimateOnly: CreationOptional<boolean>;
  declare frameCostMilli: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare startedAt: CreationOptional<Date | null>;
  declare finishedAt: CreationOptional<Date | null>;
}

export type { TaskStatus };
export type TaskKind = "render" | "inspect" | "benchmark";

export class Task extends Model<Attrs<Task>, Creation<Task>> {
  declare id: CreationOptional<number>;
  /** Render tasks belong to a render, inspect tasks to an archive (tasks_owner). */
  declare renderId: CreationOptional<number | null>;
  declare archiveId: CreationOptional<number | null>;
  declare kind: CreationOptional<TaskKind>;
  /** Null for inspect tasks. */
  declare frameStart: CreationOptional<number | null>;
  declare frameEnd: CreationOptional<number | null>;
  declare status: CreationOptional<TaskStatus>;
  declare isSample: CreationOptional<boolean>;
  declare workerId: CreationOptional<number | null>;
  declare leaseToken: CreationOptional<string | null>;
  declare leaseExpiresAt: CreationOptional<Date | null>;
  declare attempts: CreationOptional<number>;
  declare progress: CreationOptional<number>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export class TaskFailure extends Model<Attrs<TaskFailure>, Creation<TaskFailure>> {
  declare id: CreationOptional<number>;
  declare taskId: ForeignKey<Task["id"]>;
  /** Null for an inspect task's failure. */
  declare renderId: CreationOptional<number | null>;
  declare workerId: ForeignKey<Worker["id"]>;
  declare error: string;
  declare logTail: CreationOptional<string | null>;
  /** False for an error in the scene, which every worker would hit (migration 0010). */
  declare blamesWorker: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
}

export class RenderRequestAck extends Model<Attrs<RenderRequestAck>, Creation<RenderRequestAck>> {
  declare renderId: number;
  declare userId: number;
  declare decision: "accepted" | "declined";
  declare decidedAt: CreationOptional<Date>;
  declare byRule: CreationOptional<boolean>;
}

export class RenderWorker extends Model<Attrs<RenderWorker>, Creation<RenderWorker>> {
  declare renderId: number;
  declare workerId: number;
  declare allowed: boolean;
}

export class Result extends Model<Attrs<Result>, Creation<Result>> {
  declare id: CreationOptional<number>;
  declare taskId: ForeignKey<Task["id"]>;
  declare renderId: ForeignKey<Render["id"]>;
  declare frame: number;
  declare authorId: ForeignKey<User["id"]>;
  declare workerId: CreationOptional<number | null>;
  declare imageKey: CreationOptional<string | null>;
  /** The image's size in bytes; null for results recorded before it was kept. */
  declare imageBytes: CreationOptional<number | null>;
  declare thumbnailKey: CreationOptional<string | null>;
  declare width: CreationOptional<number | null>;
  declare height: CreationOptional<number | null>;
  declare renderTimeMs: CreationOptional<number | null>;
  declare wu: CreationOptional<number | null>;
  /** The WUPM its WU was priced with: wu = render minutes × wupm. */
  declare wupm: CreationOptional<number | null>;
  declare blenderVersion: CreationOptional<string | null>;
  declare accepted: boolean;
  declare rejectReason: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
}

export type LedgerReason = "grant" | "escrow" | "release" | "payment";

export class LedgerEntry extends Model<Attrs<LedgerEntry>, Creation<LedgerEntry>> {
  declare id: CreationOptional<number>;
  declare fromAccountId: ForeignKey<Account["id"]>;
  declare toAccountId: ForeignKey<Account["id"]>;
  declare amountMilli: number;
  declare reason: LedgerReason;
  declare renderId: CreationOptional<number | null>;
  declare taskId: CreationOptional<number | null>;
  declare resultId: CreationOptional<number | null>;
  declare createdAt: CreationOptional<Date>;
}

export class PushSubscription extends Model<Attrs<PushSubscription>, Creation<PushSubscription>> {
  declare id: CreationOptional<number>;
  declare userId: ForeignKey<User["id"]>;
  declare endpoint: string;
  declare p256dh: string;
  declare auth: string;
  declare userAgent: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;
}

// Sequelize writes into attribute definitions (their column name), so each attribute
// gets a fresh object.
const id = () => ({ type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true });
const createdAt = () => ({ type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW });
const nullableText = () => ({ type: DataTypes.TEXT, allowNull: true });
const nullableInt = () => ({ type: DataTypes.INTEGER, allowNull: true });
const reference = () => ({ type: DataTypes.BIGINT, allowNull: false });
const nullableReference = () => ({ type: DataTypes.BIGINT, allowNull: true });

/** Binds every model to `sequelize`; call once per connection pool. */
export function initModels(sequelize: Sequelize): void {
  // Timestamps are plain attributes with database defaults: Sequelize's own timestamp
  // handling is off, so code that changes a row sets updatedAt itself.
  const options = (tableName: string) => ({ sequelize, tableName, underscored: true, timestamps: false });

  Setting.init(
    {
      key: { type: DataTypes.TEXT, primaryKey: true },
      value: { type: DataTypes.JSONB, allowNull: false },
      updatedAt: createdAt(),
    },
    options("settings"),
  );
  User.init(
    {
      id: id(),
      username: { type: DataTypes.TEXT, allowNull: false },
      passwordHash: { type: DataTypes.TEXT, allowNull: false },
      role: { type: DataTypes.TEXT, allowNull: false, defaultValue: "user" },
      notificationPreferences: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      createdAt: createdAt(),
    },
    options("users"),
  );
  Account.init(
    {
      id: id(),
      kind: { type: DataTypes.TEXT, allowNull: false },
      userId: nullableReference(),
      balanceMilli: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      createdAt: createdAt(),
    },
    options("accounts"),
  );
  Invitation.init(
    {
      id: id(),
      fromUserId: reference(),
      email: { type: DataTypes.TEXT, allowNull: false },
      codeHash: { type: DataTypes.TEXT, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      usedByUserId: nullableReference(),
      usedAt: { type: DataTypes.DATE, allowNull: true },
      creditsMilli: { type: DataTypes.BIGINT, allowNull: true },
      createdAt: createdAt(),
    },
    options("invitations"),
  );
  ApiToken.init(
    {
      id: id(),
      userId: reference(),
      name: { type: DataTypes.TEXT, allowNull: false },
      tokenHash: { type: DataTypes.TEXT, allowNull: false },
      lastUsedAt: { type: DataTypes.DATE, allowNull: true },
      revokedAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: createdAt(),
    },
    options("api_tokens"),
  );
  Session.init(
    {
      id: id(),
      userId: reference(),
      secretHash: { type: DataTypes.TEXT, allowNull: false },
      userAgent: nullableText(),
      ip: nullableText(),
      createdAt: createdAt(),
      lastSeenAt: createdAt(),
      expiresAt: { type: DataTypes.DATE, allowNull: false },
      revokedAt: { type: DataTypes.DATE, allowNull: true },
      endedWhy: nullableText(),
    },
    options("sessions"),
  );
  Project.init(
    { id: id(), userId: reference(), name: { type: DataTypes.TEXT, allowNull: false }, createdAt: createdAt() },
    options("projects"),
  );
  Archive.init(
    {
      id: id(),
      projectId: reference(),
      uploadedBy: reference(),
      filename: { type: DataTypes.TEXT, allowNull: false },
      hash: { type: DataTypes.CHAR(64), allowNull: false },
      size: { type: DataTypes.BIGINT, allowNull: false },
      kind: { type: DataTypes.TEXT, allowNull: false },
      mainPath: nullableText(),
      storageKey: { type: DataTypes.TEXT, allowNull: false },
      blenderVersion: nullableText(),
      compression: nullableText(),
      frameStart: nullableInt(),
      frameEnd: nullableInt(),
      fps: { type: DataTypes.REAL, allowNull: true },
      resolutionX: nullableInt(),
      resolutionY: nullableInt(),
      resolutionPercentage: nullableInt(),
      engine: nullableText(),
      samples: nullableInt(),
      denoising: { type: DataTypes.BOOLEAN, allowNull: true },
      hasScripts: { type: DataTypes.BOOLEAN, allowNull: true },
      sceneFacts: { type: DataTypes.JSONB, allowNull: true },
      inspectedAt: { type: DataTypes.DATE, allowNull: true },
      inspectionError: nullableText(),
      createdAt: createdAt(),
    },
    options("archives"),
  );
  Worker.init(
    {
      id: id(),
      userId: reference(),
      name: { type: DataTypes.TEXT, allowNull: false },
      enabled: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      tokenHash: { type: DataTypes.TEXT, allowNull: false },
      wupm: { type: DataTypes.REAL, allowNull: true },
      blenderVersion: nullableText(),
      capabilities: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      threads: nullableInt(),
      agentVersion: nullableText(),
      othersUnsandboxed: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      schedule: nullableText(),
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: "offline" },
      pausedReason: nullableText(),
      lastSeenAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: createdAt(),
    },
    options("workers"),
  );
  WorkerBenchmark.init(
    {
      id: id(),
      workerId: reference(),
      wupm: { type: DataTypes.REAL, allowNull: false },
      blenderVersion: { type: DataTypes.TEXT, allowNull: false },
      hardware: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      seconds: { type: DataTypes.REAL, allowNull: true },
      renders: nullableInt(),
      spread: { type: DataTypes.REAL, allowNull: true },
      wallSeconds: { type: DataTypes.REAL, allowNull: true },
      createdAt: createdAt(),
    },
    options("worker_benchmarks"),
  );
  Render.init(
    {
      id: id(),
      archiveId: reference(),
      projectId: reference(),
      createdBy: reference(),
      frameStart: { type: DataTypes.INTEGER, allowNull: false },
      frameEnd: { type: DataTypes.INTEGER, allowNull: false },
      frameStep: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      chunkSize: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      outputFormat: { type: DataTypes.TEXT, allowNull: false },
      status: { type: DataTypes.TEXT, allowNull: false },
      priceMilli: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      maxCostMilli: { type: DataTypes.BIGINT, allowNull: true },
      onlyEnabledWorkers: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      needsDenoiser: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      scene: nullableText(),
      camera: nullableText(),
      viewLayer: nullableText(),
      resolutionPercentage: nullableInt(),
      samples: nullableInt(),
      engine: nullableText(),
      outputWidth: nullableInt(),
      outputHeight: nullableInt(),
      escrowAccountId: nullableReference(),
      estimate: { type: DataTypes.JSONB, allowNull: true },
      sampleFrames: { type: DataTypes.ARRAY(DataTypes.INTEGER), allowNull: false, defaultValue: [] },
      estimateOnly: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      frameCostMilli: { type: DataTypes.BIGINT, allowNull: true },
      createdAt: createdAt(),
      updatedAt: createdAt(),
      startedAt: { type: DataTypes.DATE, allowNull: true },
      finishedAt: { type: DataTypes.DATE, allowNull: true },
    },
    options("renders"),
  );
  Task.init(
    {
      id: id(),
      renderId: nullableReference(),
      archiveId: nullableReference(),
      kind: { type: DataTypes.TEXT, allowNull: false, defaultValue: "render" },
      frameStart: nullableInt(),
      frameEnd: nullableInt(),
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: "queued" },
      isSample: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      workerId: nullableReference(),
      leaseToken: { type: DataTypes.UUID, allowNull: true },
      leaseExpiresAt: { type: DataTypes.DATE, allowNull: true },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      progress: { type: DataTypes.REAL, allowNull: false, defaultValue: 0 },
      createdAt: createdAt(),
      updatedAt: createdAt(),
    },
    options("tasks"),
  );
  TaskFailure.init(
    {
      id: id(),
      taskId: reference(),
      renderId: nullableReference(),
      workerId: reference(),
      error: { type: DataTypes.TEXT, allowNull: false },
      logTail: nullableText(),
      blamesWorker: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      createdAt: createdAt(),
    },
    options("task_failures"),
  );
  RenderRequestAck.init(
    {
      renderId: { type: DataTypes.BIGINT, primaryKey: true },
      userId: { type: DataTypes.BIGINT, primaryKey: true },
      decision: { type: DataTypes.TEXT, allowNull: false },
      decidedAt: createdAt(),
      byRule: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    },
    options("render_request_acks"),
  );
  RenderWorker.init(
    {
      renderId: { type: DataTypes.BIGINT, primaryKey: true },
      workerId: { type: DataTypes.BIGINT, primaryKey: true },
      allowed: { type: DataTypes.BOOLEAN, allowNull: false },
    },
    options("render_workers"),
  );
  Result.init(
    {
      id: id(),
      taskId: reference(),
      renderId: reference(),
      frame: { type: DataTypes.INTEGER, allowNull: false },
      authorId: reference(),
      workerId: nullableReference(),
      imageKey: nullableText(),
      imageBytes: { type: DataTypes.BIGINT, allowNull: true },
      thumbnailKey: nullableText(),
      width: nullableInt(),
      height: nullableInt(),
      renderTimeMs: nullableInt(),
      wu: { type: DataTypes.REAL, allowNull: true },
      wupm: { type: DataTypes.REAL, allowNull: true },
      blenderVersion: nullableText(),
      accepted: { type: DataTypes.BOOLEAN, allowNull: false },
      rejectReason: nullableText(),
      createdAt: createdAt(),
    },
    options("results"),
  );
  LedgerEntry.init(
    {
      id: id(),
      fromAccountId: reference(),
      toAccountId: reference(),
      amountMilli: { type: DataTypes.BIGINT, allowNull: false },
      reason: { type: DataTypes.TEXT, allowNull: false },
      renderId: nullableReference(),
      taskId: nullableReference(),
      resultId: nullableReference(),
      createdAt: createdAt(),
    },
    options("ledger_entries"),
  );
  PushSubscription.init(
    {
      id: id(),
      userId: reference(),
      endpoint: { type: DataTypes.TEXT, allowNull: false },
      p256dh: { type: DataTypes.TEXT, allowNull: false },
      auth: { type: DataTypes.TEXT, allowNull: false },
      userAgent: nullableText(),
      createdAt: createdAt(),
    },
    options("push_subscriptions"),
  );

  Project.belongsTo(User, { foreignKey: "userId", as: "author" });
  Archive.belongsTo(Project, { foreignKey: "projectId", as: "project" });
  Project.hasMany(Archive, { foreignKey: "projectId", as: "archives" });
  Render.belongsTo(Archive, { foreignKey: "archiveId", as: "archive" });
  Task.belongsTo(Render, { foreignKey: "renderId", as: "render" });
  Render.hasMany(Task, { foreignKey: "renderId", as: "tasks" });
  Worker.belongsTo(User, { foreignKey: "userId", as: "owner" });
}
