import { createReadStream, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

// The agent and the CLI as the farm hands them out (docs/design.md §7, decision 027): one
// file each with every dependency inside, built by `npm run build` (scripts/build-bundles.ts)
// into build/bundles/, with the install script that fetches and checks them
// (server/install.sh) and the agent's systemd unit. A worker machine needs Node and
// Blender, and the farm's address: nothing comes from a package registry.

export interface BundleFile {
  file: string;
  bytes: number;
  sha256: string;
}

export interface BundleManifest {
  version: string;
  agent: BundleFile;
  cli: BundleFile;
}

/** The two things a machine can install from the farm, by the path they are served under. */
export const INSTALLABLE = {
  agent: { command: "cactus-agent", bundle: (manifest: BundleManifest) => manifest.agent },
  cli: { command: "cactus", bundle: (manifest: BundleManifest) => manifest.cli },
} as const;
export type InstallRoute = keyof typeof INSTALLABLE;

/** Not built: the server runs from a checkout where `npm run build` has not made them. */
export class BundlesMissing extends Error {
  override name = "BundlesMissing";
}

let found: { dir: string; manifest: BundleManifest } | undefined;

function bundles(): { dir: string; manifest: BundleManifest } {
  if (found) return found;
  // Beside the server's Remix build (build/index.js), or build/ of the directory it runs in.
  const candidates = [path.join(path.dirname(fileURLToPath(import.meta.url)), "bundles"), path.resolve("build/bundles")];
  const dir = candidates.find((candidate) => existsSync(path.join(candidate, "manifest.json")));
  if (!dir) throw new BundlesMissing("The agent and CLI bundles are not built on this server: run `npm run build` where it runs.");
  found = { dir, manifest: JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as BundleManifest };
  return found;
}

/** The install script for this farm, as `curl -fsSL <origin>/<route>/install.sh | sh` runs it. */
export function installScript(route: InstallRoute, origin: string): string {
  const { dir, manifest } = bundles();
  const { command, bundle } = INSTALLABLE[route];
  // Filled in between single quotes: an origin (scheme, host, port) holds no quote.
  if (/['\s\\]/.test(origin)) throw new Error(`The farm's address ${origin} cannot go in a shell script.`);
  const values: Record<string, string> = {
    SERVER: origin,
    COMMAND: command,
    ROUTE: route,
    VERSION: manifest.version,
    BUNDLE: bundle(manifest).file,
    SHA256: bundle(manifest).sha256,
  };
  return readFileSync(path.join(dir, "install.sh"), "utf8").replace(/@([A-Z0-9]+)@/g, (match, name: string) => values[name] ?? match);
}

/** The bundle served under `route`: its name, size and sha256. */
export function bundleFile(route: InstallRoute): BundleFile {
  return INSTALLABLE[route].bundle(bundles().manifest);
}

export function readBundle(file: BundleFile): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(path.join(bundles().dir, file.file))) as ReadableStream<Uint8Array>;
}

export const INSTALLED_AGENT = "/usr/local/lib/cactus-agent/cactus-agent.mjs";

/**
 * agent/cactus-agent.service for an agent the install script put in /usr/local, its settings
 * in /etc/cactus/agent.json: the unit's hardening as it is, its start line and comment changed.
 */
export function installedUnit(origin: string): string {
  const unit = readFileSync(path.join(bundles().dir, "cactus-agent.service"), "utf8");
  const body = unit.slice(unit.indexOf("[Unit]"));
  return (
    `# The Blender Cactus agent as a systemd service, installed by ${origin}/agent/install.sh.\n` +
    "# Its settings (the farm's address, the worker's token) are in /etc/cactus/agent.json (mode 0640,\n" +
    "# group cactus-agent); /etc/cactus/agent.env, when there, may set CACTUS_* variables too.\n\n" +
    body
      .replace(/^EnvironmentFile=(?!-)(.*)$/m, "EnvironmentFile=-$1")
      .replace(/^ExecStart=.*$/m, `ExecStart=/usr/bin/env node ${INSTALLED_AGENT} run`)
  );
}
