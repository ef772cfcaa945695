import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import type { BundleFile, BundleManifest } from "../app/lib/bundles.server";
import pkg from "../package.json" with { type: "json" };

// `npm run build`'s last step: the agent and the CLI as one file each, every dependency
// inside (build/bundles/), which the server hands to worker machines with its install
// lines (/agent/install.sh, /cli/install.sh). A worker needs Node and Blender only, and
// nothing is fetched from a registry, so a stranger's npm package named cactus-agent can
// never stand in for ours. The agent's Blender scripts go inside too.

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "build/bundles");


const agentScripts = Object.fromEntries(
  readdirSync(path.join(ROOT, "agent/scripts"))
    .filter((name) => name.endsWith(".py"))
    .map((name) => [name, readFileSync(path.join(ROOT, "agent/scripts", name), "utf8")]),
);

async function bundle(name: string, entry: string, define: Record<string, string> = {}): Promise<BundleFile> {
  const file = `${name}.mjs`;
  const outfile = path.join(OUT, file);
  await build({
    stdin: { contents: `import { run } from ${JSON.stringify(entry)};\nawait run();\n`, resolveDir: ROOT, loader: "ts", sourcefile: `${name}-main.ts` },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    define,
    // Bundled CommonJS dependencies call require() for Node's own modules.
    banner: { js: `#!/usr/bin/env node\n// ${name} ${pkg.version}, Blender Cactus: one file, every dependency inside.\nimport { createRequire as __cactusRequire } from "node:module";\nconst require = __cactusRequire(import.meta.url);` },
    legalComments: "none",
    logLevel: "warning",
  });
  await fs.chmod(outfile, 0o755);
  const bytes = await fs.readFile(outfile);
  return { file, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

await fs.rm(OUT, { recursive: true, force: true });
await fs.mkdir(OUT, { recursive: true });
const [agent, cli] = await Promise.all([
  bundle("cactus-agent", "./agent/index.ts", { CACTUS_AGENT_SCRIPTS: JSON.stringify(agentScripts) }),
  bundle("cactus", "./cli/index.ts"),
]);
// What the server fills in and serves beside them: the install script and the agent's unit.
await fs.copyFile(path.join(ROOT, "server/install.sh"), path.join(OUT, "install.sh"));
await fs.copyFile(path.join(ROOT, "agent/cactus-agent.service"), path.join(OUT, "cactus-agent.service"));
const manifest: BundleManifest = { version: pkg.version, agent, cli };
await fs.writeFile(path.join(OUT, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
