import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express from "express";
import type { CactusConfig } from "../app/lib/env.server";
import type { RunningCactus, startCactus as StartCactus } from "../app/lib/boot.server";
import { connectionGuard } from "./connections";
import { originCheck } from "./origin-check";
import { remixHandler } from "./remix-handler";
import { securityHeaders } from "./security-headers";

export interface CactusServer {
  url: string;
  port: number;
  cactus: RunningCactus;
  /** Stops taking connections, lets running requests finish, then stops the database. */
  close(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, "..");

export interface ServerOptions {
  /** Static files (the PWA's assets and service worker); `public/` of the build by default. */
  publicDir?: string;
}

/** Boots the farm from the Remix build (`npm run build`) and serves it over HTTP. */
export async function startServer(
  config: CactusConfig,
  log: (message: string) => void = console.log,
  options: ServerOptions = {},
): Promise<CactusServer> {
  const build = (await import(pathToFileURL(path.join(ROOT, "build/index.js")).href)) as ServerBuild;
  const startCactus = (build.entry.module as unknown as { startCactus: typeof StartCactus }).startCactus;
  const guard = connectionGuard({
    bodyIdleMs: config.CACTUS_BODY_IDLE_SECONDS * 1000,
    // Behind a proxy every connection is the proxy's: capping them would cap everyone.
    maxAnonymousPerAddress: config.CACTUS_TRUST_PROXY ? 0 : config.CACTUS_MAX_ANONYMOUS_CONNECTIONS,
  });
  const cactus = await startCactus(config, log, { onAuthenticated: guard.authenticated });

  const publicDir = options.publicDir ?? path.join(ROOT, "public");
  const app = express();
  app.disable("x-powered-by");
  app.use(guard.middleware);
  app.use(securityHeaders(config));
  app.use(compression({ filter: compressible }));
  app.use("/build", express.static(path.join(publicDir, "build"), { immutable: true, maxAge: "1y" }));
  app.use(
    express.static(publicDir, {
      maxAge: "1h",
      // The service worker and the manifest are asked for again on every check for a new
      // version: a cached copy would hide a deploy for an hour.
      setHeaders: (res, file) => {
        if (/(^|\/)(sw\.js|manifest\.webmanifest)$/.test(file)) res.setHeader("Cache-Control", "no-cache");
      },
    }),
  );
  app.use(originCheck({ publicOrigin: config.CACTUS_PUBLIC_URL ? new URL(config.CACTUS_PUBLIC_URL).origin : null }));
  app.all(
    "*",
    remixHandler(build, {
      mode: config.NODE_ENV,
      // See app/lib/context.ts: the rate limits key on the client's address.
      getLoadContext: (req) => ({ clientIp: req.socket.remoteAddress }),
      databaseDown: cactus.databaseDown,
    }),
  );

  // Node looks for connections past headersTimeout this often (by default every 30 s).
  const server = http.createServer({ connectionsCheckingInterval: 1000 }, app);
  // Large uploads can take long, so there is no limit on a whole request; a body that
  // stops coming is ended by the guard, headers that take too long by Node (408).
  server.requestTimeout = 0;
  server.headersTimeout = config.CACTUS_HEADERS_TIMEOUT_SECONDS * 1000;
  guard.watch(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.PORT, config.HOST, resolve);
  });
  const { port } = server.address() as { port: number };
  const url = `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${port}`;
  return {
    url,
    port,
    cactus,
    async close() {
      cactus.closeStreams();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await cactus.stop();
    },
  };
}

/**
 * HTML, JSON, JavaScript and CSS are sent compressed (brotli or gzip, as the browser
 * accepts); images, archives and zips are compressed already. Event streams never are:
 * a compressor holds small writes back until it has a block, and an event must go out
 * as it happens.
 */
function compressible(req: express.Request, res: express.Response): boolean {
  if (/text\/event-stream/i.test(String(res.getHeader("Content-Type") ?? ""))) return false;
  return compression.filter(req, res);
}
