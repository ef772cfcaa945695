import os from "node:os";
import type { DatabaseEvents } from "./db-events.server";
import type { CactusConfig } from "./env.server";
import { Problem } from "./problem.server";
import type { BlobStorage } from "./storage.server";
import type { WorkSignals } from "./work-signals.server";

/** What the HTTP server (server/) wants to hear from the app. */
export interface ServerHooks {
  /** A request on this connection proved who it is (server/connections.ts). */
  onAuthenticated?(connectionId: string): void;
}

export interface Runtime {
  config: CactusConfig;
  sessionSecret: string;
  storage: BlobStorage;
  hooks: ServerHooks;
  /** Notifications from the database, heard on this replica (live pages, push). */
  events: DatabaseEvents;
  /** The VAPID public key: the one setting the browser gets, to subscribe to pushes. */
  vapidPublicKey: string;
  /** Wakes claims held for work that appeared (LISTEN/NOTIFY). */
  workSignals: WorkSignals;
}

let runtime: Runtime | undefined;

export function configureRuntime(value: Runtime): void {
  runtime = value;
}

/** What boot prepared: validated settings, the session secret, blob storage, database notifications, the work signals. */
export function getRuntime(): Runtime {
  if (!runtime) throw new Error("The server has not booted: startCactus() configures it.");
  return runtime;
}

/**
 * Where people and agents reach this server, for links and commands it hands out:
 * CACTUS_PUBLIC_URL when set (behind a proxy), else the origin this request came to,
 * but only when its Host is this machine's own (localhost, a name or address of this
 * machine). Any other Host could be anyone's, put there to send invitation links
 * elsewhere: then the answer is a Problem saying to set CACTUS_PUBLIC_URL.
 */
export function publicOrigin(request: Request): string {
  const origin = publicOriginOrNull(request);
  if (origin === null) {
    throw new Problem(
      "bad_request",
      `This request came for the host "${new URL(request.url).host}", which is not one of this machine's names, and CACTUS_PUBLIC_URL is not set, ` +
        "so the server cannot tell what address to put in a link. The farm's admin sets CACTUS_PUBLIC_URL to the address people reach it at.",
    );
  }
  return origin;
}

export function publicOriginOrNull(request: Request): string | null {
  const configured = getRuntime().config.CACTUS_PUBLIC_URL;
  if (configured) return configured.replace(/\/+$/, "");
  const url = new URL(request.url);
  return isOwnHostname(url.hostname) ? url.origin : null;
}

/** localhost, a loopback address, this machine's hostname, or an address of one of its interfaces. */
export function isOwnHostname(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost") || /^127\./.test(name) || name === "::1") return true;
  const host = os.hostname().toLowerCase();
  if (name === host || name === `${host}.local`) return true;
  return Object.values(os.networkInterfaces()).some((addresses) =>
    addresses?.some((address) => address.address.toLowerCase() === name),
  );
}
