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
