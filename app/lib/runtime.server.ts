import type { CactusConfig } from "./env.server";
import type { BlobStorage } from "./storage.server";

export interface Runtime {
  config: CactusConfig;
  sessionSecret: string;
  storage: BlobStorage;
}

let runtime: Runtime | undefined;

export function configureRuntime(value: Runtime): void {
  runtime = value;
}

/** What boot prepared: validated settings, the session secret, blob storage. */
export function getRuntime(): Runtime {
  if (!runtime) throw new Error("The server has not booted: startCactus() configures it.");
  return runtime;
}

/**
 * Where people and agents reach this server: CACTUS_PUBLIC_URL when set (behind a proxy),
 * else the origin this request came to. For links and commands the server hands out.
 */
export function publicOrigin(request: Request): string {
  return getRuntime().config.CACTUS_PUBLIC_URL?.replace(/\/+$/, "") ?? new URL(request.url).origin;
}
