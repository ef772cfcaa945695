import path from "node:path";
import { z } from "zod";
import { passwordSchema, usernameSchema } from "../../contract";
import { DEFAULT_LEASE_SECONDS } from "../../domain/scheduler";

const GIB = 1024 ** 3;

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

/** Every setting the server reads, checked once at boot. The README's table lists them. */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  CACTUS_DATA_DIR: z.string().default("./data"),
  CACTUS_PUBLIC_URL: optionalText.pipe(z.url().optional()),
  // The first admin obeys the same rules as any sign-up, so a bad one stops the start
  // with a readable message rather than a database constraint error.
  CACTUS_ADMIN_USER: optionalText.pipe(usernameSchema.optional()),
  CACTUS_ADMIN_PASSWORD: optionalText.pipe(passwordSchema.optional()),
  CACTUS_SESSION_SECRET: optionalText.pipe(z.string().min(32).optional()),
  CACTUS_MAX_ARCHIVE_BYTES: z.coerce.number().int().positive().default(2 * GIB),
  CACTUS_MAX_UNPACKED_BYTES: z.coerce.number().int().positive().default(8 * GIB),
  CACTUS_MAX_ZIP_ENTRIES: z.coerce.number().int().positive().default(10_000),
  CACTUS_MAX_FRAME_BYTES: z.coerce.number().int().positive().default(GIB / 2),
  CACTUS_INVITATION_TTL_HOURS: z.coerce.number().positive().default(7 * 24),
  CACTUS_STARTING_CREDITS: z.coerce.number().min(0).default(100),
  // Only behind a proxy that sets X-Forwarded-For may the header name the client;
  // otherwise anyone could dodge the sign-in rate limit by sending it.
  CACTUS_TRUST_PROXY: z.stringbool().default(false),
  // How long a claimed task stays an agent's without a heartbeat (agents beat 3 times per
  // lease); and how often expired leases are put back in the queue. Short ones let the
  // end-to-end tests see a killed agent's frame handed out again within seconds.
  CACTUS_LEASE_SECONDS: z.coerce.number().int().min(3).max(3600).default(DEFAULT_LEASE_SECONDS),
  CACTUS_REAPER_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
  // A browser session ends after this long unused, and at the latest this long after sign-in.
  CACTUS_SESSION_IDLE_HOURS: z.coerce.number().positive().max(24 * 365).default(14 * 24),
  CACTUS_SESSION_MAX_DAYS: z.coerce.number().positive().max(365).default(30),
  // Postgres statements end after this long (on the server), and the pool gives up on a
  // database that does not answer a query, a connect or a free connection this fast: a
  // stalled Postgres is a quick 503, not requests piling up behind it.
  CACTUS_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  CACTUS_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  // Slow clients: the request's headers must arrive within this many seconds, and a
  // body that sends nothing for this long is answered 408 and its connection closed.
  CACTUS_HEADERS_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  CACTUS_BODY_IDLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // Connections one address may hold open before any of them signed in (0: no cap).
  // Behind a proxy (CACTUS_TRUST_PROXY) every connection comes from the proxy: no cap.
  CACTUS_MAX_ANONYMOUS_CONNECTIONS: z.coerce.number().int().min(0).max(100_000).default(32),
  // Blobs in an S3-compatible bucket instead of the data dir, so that several replicas
  // share them (decision 020). Setting the bucket turns it on; the rest is checked in
  // s3SettingsOf below and the bucket itself at boot.
  CACTUS_S3_BUCKET: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a bucket name is 3-63 lowercase letters, digits, dots and hyphens")
      .optional(),
  ),
  CACTUS_S3_ENDPOINT: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: "the store's URL, like http://minio:9000" })
      // A bucket in the path would be taken for part of every key's address: the bucket
      // then "does not exist", which sends the user to the wrong setting.
      .refine((url) => /^https?:\/\/[^/?#]+\/?$/.test(url), "the store's address without a path, like http://minio:9000 (the bucket goes in CACTUS_S3_BUCKET)")
      .optional(),
  ),
  CACTUS_S3_REGION: optionalText.pipe(z.string().regex(/^[a-z0-9-]+$/, "a region is like us-east-1").optional()),
  CACTUS_S3_ACCESS_KEY_ID: optionalText,
  CACTUS_S3_SECRET_ACCESS_KEY: optionalText,
  CACTUS_S3_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/?$/, "a prefix is like cactus/ (letters, digits, !_.*'()- and / between parts)")
      .optional(),
  ),
  CACTUS_S3_FORCE_PATH_STYLE: optionalText.pipe(z.stringbool().optional()),
  // The longest an idle agent's claim is held open waiting for work (0: answer at once).
  // Below a proxy's read timeout (nginx: 60 s) when the farm sits behind one.
  CACTUS_CLAIM_WAIT_SECONDS: z.coerce.number().int().min(0).max(120).default(30),
});

export type Env = z.infer<typeof envSchema>;

/** Where blobs go when they go to an S3-compatible store. */
export interface S3Settings {
  bucket: string;
  /** "" or ending in "/". */
  prefix: string;
  region: string;
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Unset: the AWS SDK's own chain (AWS_ACCESS_KEY_ID, ~/.aws, an instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface CactusConfig extends Env {
  /** CACTUS_DATA_DIR made absolute. */
  dataDir: string;
  /** Null: blobs stay in the data dir. */
  s3: S3Settings | null;
}

/** A setting that stops the start; its message says which and what to do, no stack needed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * By name, not `instanceof`: the server entry (build/server.js) and the Remix build
 * (build/index.js) are bundled apart, each with its own copy of the class.
 */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): CactusConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `  ${issue.path.join(".")}: ${issue.message}`)
      .join("\n");
    throw new ConfigError(`Invalid server settings:\n${problems}\nSee the configuration table in README.md.`);
  }
  const config = parsed.data;
  if (Boolean(config.CACTUS_ADMIN_USER) !== Boolean(config.CACTUS_ADMIN_PASSWORD)) {
    throw new ConfigError(
      "Set both CACTUS_ADMIN_USER and CACTUS_ADMIN_PASSWORD, or neither (a one-time setup code is printed instead).",
    );
  }
  return { ...config, dataDir: path.resolve(config.CACTUS_DATA_DIR), s3: s3SettingsOf(config) };
}

function s3SettingsOf(config: Env): S3Settings | null {
  const keyId = config.CACTUS_S3_ACCESS_KEY_ID;
  const secret = config.CACTUS_S3_SECRET_ACCESS_KEY;
  if (!config.CACTUS_S3_BUCKET) {
    const set = Object.entries(config).find(([name, value]) => name.startsWith("CACTUS_S3_") && value !== undefined);
    if (set) {
      throw new ConfigError(`${set[0]} is set but CACTUS_S3_BUCKET is not: set the bucket to keep blobs in S3, or unset ${set[0]} to keep them in CACTUS_DATA_DIR.`);
    }
    return null;
  }
  if (Boolean(keyId) !== Boolean(secret)) {
    throw new ConfigError(
      "Set both CACTUS_S3_ACCESS_KEY_ID and CACTUS_S3_SECRET_ACCESS_KEY, or neither (the AWS SDK then finds credentials itself: AWS_* variables, ~/.aws, an instance role).",
    );
  }
  const prefix = config.CACTUS_S3_PREFIX ?? "";
  return {
    bucket: config.CACTUS_S3_BUCKET,
    prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`,
    region: config.CACTUS_S3_REGION ?? "us-east-1",
    endpoint: config.CACTUS_S3_ENDPOINT,
    // MinIO and most stores other than AWS's take the bucket in the path, not the host name.
    forcePathStyle: config.CACTUS_S3_FORCE_PATH_STYLE ?? config.CACTUS_S3_ENDPOINT !== undefined,
    credentials: keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret } : undefined,
  };
}
