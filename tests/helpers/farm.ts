import { randomBytes } from "node:crypto";
import { QueryTypes, type Sequelize } from "sequelize";
import { parseFrameRange, splitIntoTasks } from "../../domain/frames";
import type { RenderStatus } from "../../db/models";
import { grant } from "../../db/sql/ledger";
import { confirmRender, createRenderTasks } from "../../db/sql/queue";
import { toMilli } from "../../domain/ledger";

// Users, workers, archives and renders straight in the database, for the queue's tests.
// Each test makes its own user: the claim only hands a worker its owner's work, so tests
// sharing a database do not see each other's tasks.

export interface Farm {
  user(): Promise<number>;
  /** Grants the user credits from the farm's account, as an admin would. */
  grant(userId: number, credits: number): Promise<void>;
  /** engines: what its agent said renders there; left out, an agent too old to say. */
  worker(userId: number, options?: { enabled?: boolean; denoiser?: boolean; engines?: string[] }): Promise<number>;
  /** A worker that may take other people's renders: its agent runs Blender sandboxed; `wupm` 60 makes a 1 s frame 1 WU. */
  helperWorker(userId: number, options?: { wupm?: number; sandbox?: string }): Promise<number>;
  archive(userId: number, facts?: { resolutionX: number; resolutionY: number; resolutionPercentage: number }): Promise<number>;
  render(
    userId: number,
    options?: {
      archiveId?: number;
      frames?: string;
      chunk?: number;
      priceMilli?: number;
      status?: RenderStatus;
      needsDenoiser?: boolean;
      /** The scene's engine, as the request records it (null: not known). */
      engine?: string | null;
      /** The frames' size; by default the archive's resolution at its percentage, as the request records it. */
      output?: { width: number; height: number } | null;
      options?: Partial<{ scene: string; camera: string; viewLayer: string; resolutionPercentage: number; samples: number }>;
      createdAt?: Date;
      samples?: number[];
    },
  ): Promise<number>;
  /**
   * A render quoted at `boundWu` WU at most (a frame at most `frameWu`) and confirmed
   * into escrow (its owner needs the credits): its tasks exist already, as if every frame
   * had been a sample frame, so confirming queues nothing more.
   */
  confirmed(
    userId: number,
    options?: { frames?: string; priceMilli?: number; boundWu?: number; frameWu?: number; chunk?: number },
  ): Promise<number>;
  one<T extends object>(sql: string, bind?: Record<string, unknown>): Promise<T>;
  all<T extends object>(sql: string, bind?: Record<string, unknown>): Promise<T[]>;
}

export function farm(sequelize: Sequelize): Farm {
  const all = <T extends object>(sql: string, bind: Record<string, unknown> = {}) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  const one = async <T extends object>(sql: string, bind: Record<string, unknown> = {}) => (await all<T>(sql, bind))[0];
  const id = async (sql: string, bind: Record<string, unknown>) => (await one<{ id: number }>(sql, bind)).id;

  const self: Farm = {
    all,
    one,
    user: () =>
      id(`INSERT INTO users (username, password_hash) VALUES ($name, 'not-a-hash') RETURNING id`, {
        name: `u${randomBytes(6).toString("hex")}`,
      }),
    grant: (userId, credits) => sequelize.transaction((transaction) => grant(sequelize, userId, toMilli(credits), transaction)),
    worker: (userId, { enabled = true, denoiser = false, engines } = {}) =>
      id(
        `INSERT INTO workers (user_id, name, enabled, token_hash, capabilities)
         VALUES ($userId, $name, $enabled, $tokenHash, $capabilities) RETURNING id`,
        {
          userId,
          enabled,
          name: `w${randomBytes(6).toString("hex")}`,
          tokenHash: randomBytes(32).toString("hex"),
          capabilities: JSON.stringify({ denoiser, ...(engines ? { engines } : {}) }),
        },
      ),
    helperWorker: async (userId, { wupm = 60, sandbox = "bwrap" } = {}) => {
      const workerId = await self.worker(userId);
      await all(`UPDATE workers SET wupm = $wupm, capabilities = $caps WHERE id = $workerId RETURNING id`, {
        workerId,
        wupm,
        caps: JSON.stringify({ sandbox }),
      });
      return workerId;
    },
    archive: async (userId, facts) => {
      const projectId = await id(`INSERT INTO projects (user_id, name) VALUES ($userId, $name) RETURNING id`, {
        userId,
        name: `p${randomBytes(6).toString("hex")}`,
      });
      const hash = randomBytes(32).toString("hex");
      return id(
        `INSERT INTO archives (project_id, uploaded_by, filename, hash, size, kind, storage_key,
                               resolution_x, resolution_y, resolution_percentage, inspected_at)
         VALUES ($projectId, $userId, 'scene.blend', $hash::text, 1234, 'blend', $hash::text, $x, $y, $percentage, now())
         RETURNING id`,
        {
          projectId,
          userId,
          hash,
          x: facts?.resolutionX ?? null,
          y: facts?.resolutionY ?? null,
          percentage: facts?.resolutionPercentage ?? null,
        },
      );
    },
    render: async (userId, options = {}) => {
      const archiveId = options.archiveId ?? (await self.archive(userId));
      const range = parseFrameRange(options.frames ?? "1-4");
      const renderId = await id(
        `INSERT INTO renders (archive_id, project_id, created_by, frame_start, frame_end, frame_step, chunk_size,
                              output_format, status, price_milli, needs_denoiser, created_at, engine,
                              output_width, output_height, scene, camera, view_layer, resolution_percentage, samples)
         SELECT id, project_id, $userId::bigint, $start::int, $end::int, $step::int, $chunk::int, 'PNG', $status::text,
                $price::bigint, $needsDenoiser::boolean, $createdAt::timestamptz, $engine::text,
                CASE WHEN $defaultSize::boolean THEN resolution_x * coalesce(resolution_percentage, 100) / 100 ELSE $width::int END,
                CASE WHEN $defaultSize::boolean THEN resolution_y * coalesce(resolution_percentage, 100) / 100 ELSE $height::int END,
                $scene::text, $camera::text, $viewLayer::text, $percentage::int, $renderSamples::int
           FROM archives WHERE id = $archiveId
         RETURNING id`,
        {
          archiveId,
          userId,
          ...range,
          chunk: options.chunk ?? 1,
          status: options.status ?? "queued",
          price: options.priceMilli ?? 0,
          needsDenoiser: options.needsDenoiser ?? false,
          createdAt: options.createdAt ?? new Date(),
          engine: options.engine ?? null,
          defaultSize: options.output === undefined,
          width: options.output?.width ?? null,
          height: options.output?.height ?? null,
          scene: options.options?.scene ?? null,
          camera: options.options?.camera ?? null,
          viewLayer: options.options?.viewLayer ?? null,
          percentage: options.options?.resolutionPercentage ?? null,
          renderSamples: options.options?.samples ?? null,
        },
      );
      const samples = new Set(options.samples ?? []);
      const tasks = splitIntoTasks(range, options.chunk ?? 1).map((task) => ({
        ...task,
        isSample: samples.has(task.frameStart),
      }));
      await createRenderTasks(sequelize, renderId, tasks);
      return renderId;
    },
    confirmed: async (userId, { frames = "1-10", priceMilli = 1000, boundWu = 10, frameWu = 1, chunk = 1 } = {}) => {
      const renderId = await self.render(userId, { frames, priceMilli, status: "quoted", chunk });
      const count = splitIntoTasks(parseFrameRange(frames), 1).length;
      // The shape domain/estimate.ts makes: the quote on the render, the live estimate with its curve beside it.
      const made = {
        totalWu: boundWu * 0.8,
        band: { low: boundWu * 0.6, high: boundWu },
        doneWu: 0,
        remainingWu: boundWu * 0.8,
        framesMeasured: count,
        frames: count,
      };
      await all(
        `UPDATE renders SET sample_frames = (SELECT array_agg(g) FROM generate_series(frame_start, frame_end, frame_step) g),
                            estimate = $quote WHERE id = $renderId RETURNING id`,
        { renderId, quote: JSON.stringify({ ...made, quotedAt: new Date().toISOString() }) },
      );
      const curve = [{ frame: 1, wu: frameWu * 0.8, low: 0, high: frameWu, sampled: true, done: false }];
      await all(`INSERT INTO render_estimates (render_id, sampling, estimate) VALUES ($renderId, false, $estimate) RETURNING render_id`, {
        renderId,
        estimate: JSON.stringify({ ...made, curve }),
      });
      await confirmRender(sequelize, renderId);
      return renderId;
    },
  };
  return self;
}
