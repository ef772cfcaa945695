import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";

// What an upload costs in Node with nothing of Cactus: node:http, sha256 on the way and a
// file write, as the archive route does, but no Express, Remix, web streams or database.
// The bench runs it as a ceiling, so a gap to `cp` can be told apart from our own code's.

const dir = process.argv[2];
if (!dir) throw new Error("usage: node --import tsx bench/lib/bare-server.ts DIR");
await fs.mkdir(dir, { recursive: true });

const server = http.createServer((request, response) => {
  const file = path.join(dir, randomUUID());
  const hash = createHash("sha256");
  let size = 0;
  pipeline(
    request,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(file, { highWaterMark: 1024 * 1024 }),
  )
    .then(() => {
      response.writeHead(201, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ size, hash: hash.digest("hex") }));
    })
    .catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    })
    .finally(() => void fs.rm(file, { force: true }));
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(`Bare upload server on http://127.0.0.1:${port}`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
