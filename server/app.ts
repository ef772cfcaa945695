import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerBuild } from "@remix-run/node";
import express from "express";
import type { CactusConfig } from "../app/lib/env.server";
import type { RunningCactus, startCactus as StartCactus } from "../app/lib/boot.server";
import { remixHandler } from "./remix-handler";

export interface CactusServer {
  url: string;
  port: number;
  cactus: RunningCactus;
  /** Stops taking connections, lets running requests finish, then stops the database. */
  close(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, "..");

/** Boots the farm from the Remix build (`npm run build`) and serves it over HTTP. */
export async function startServer(
  config: CactusConfig,
  log: (message: string) => void = console.log,
): Promise<CactusServer> {
  const build = (await import(pathToFileURL(path.join(ROOT, "build/index.js")).href)) as ServerBuild;
  const startCactus = (build.entry.module as unknown as { startCactus: typeof StartCactus }).startCactus;
  const cactus = await startCactus(config, log);

  const app = express();
  app.disable("x-powered-by");
  app.use("/build", express.static(path.join(ROOT, "public/build"), { immutable: true, maxAge: "1y" }));
  app.use(express.static(path.join(ROOT, "public"), { maxAge: "1h" }));
  app.all(
    "*",
    // See app/lib/context.ts: the rate limits key on the client's address.
    remixHandler(build, config.NODE_ENV, (req) => ({ clientIp: req.socket.remoteAddress })),
  );

  const server = http.createServer(app);
  // Large uploads can take long; the route's own checks end bad ones early.
  server.requestTimeout = 0;
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
