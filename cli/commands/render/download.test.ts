import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { http, HttpResponse } from "msw";
import { afterEach, beforeEach, expect, test } from "vitest";
import type { FrameDto } from "../../../contract";
import { apiError } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

let out = "";
beforeEach(async () => {
  out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "cactus-download-test-")), "shots");
});
afterEach(() => fs.rm(path.dirname(out), { recursive: true, force: true }));

const image = (frame: number) => Buffer.alloc(100 + frame, frame);
const frame = (n: number, status: FrameDto["status"] = "done"): FrameDto => ({
  frame: n,
  status,
  workerName: status === "done" ? "studio-pc" : null,
  renderTimeMs: status === "done" ? 1500 : null,
  width: status === "done" ? 64 : null,
  height: status === "done" ? 48 : null,
  filename: `shot_${String(n).padStart(5, "0")}.png`,
  bytes: status === "done" ? image(n).length : null,
});

/** Render 12: frames 1-3 rendered, 4 queued. Returns the frames fetched, in order. */
function withFrames(): number[] {
  const fetched: number[] = [];
  server.use(
    http.get(`${API}/renders/12/frames`, () => HttpResponse.json({ frames: [frame(1), frame(2), frame(3), frame(4, "queued")] })),
    http.get(`${API}/renders/12/frames/:frame`, ({ params }) => {
      fetched.push(Number(params.frame));
      return new HttpResponse(image(Number(params.frame)), {
        headers: { "Content-Type": "image/png", "Content-Length": String(image(Number(params.frame)).length) },
      });
    }),
  );
  return fetched;
}

test("render download saves each rendered frame under its name, and lists the files", async () => {
  await loggedIn();
  const fetched = withFrames();
  const result = await cactus(["render", "download", "12", "--out", out]);
  expect(result.code).toBe(0);
  expect(fetched).toEqual([1, 2, 3]);
  expect((await fs.readdir(out)).sort()).toEqual(["shot_00001.png", "shot_00002.png", "shot_00003.png"]);
  expect((await fs.readFile(path.join(out, "shot_00002.png"))).equals(image(2))).toBe(true);
  expect(result.stdout).toBe([1, 2, 3].map((n) => `${path.join(out, `shot_0000${n}.png`)}\n`).join(""));
  expect(result.stderr).toContain(`Downloaded 3 frames (306 B) to ${out}; 1 not rendered yet`);
});

test("a second download skips the frames already there with the same size, and fetches a file that differs", async () => {
  await loggedIn();
  const fetched = withFrames();
  await cactus(["render", "download", "12", "--out", out]);
  await fs.writeFile(path.join(out, "shot_00002.png"), "cut short");
  fetched.length = 0;
  const again = await cactus(["render", "download", "12", "-o", out, "--json"]);
  expect(again.code).toBe(0);
  expect(fetched).toEqual([2]);
  expect(JSON.parse(again.stdout)).toEqual({
    id: 12,
    out,
    frames: [
      { frame: 1, file: path.join(out, "shot_00001.png"), bytes: 101, skipped: true },
      { frame: 2, file: path.join(out, "shot_00002.png"), bytes: 102, skipped: false },
      { frame: 3, file: path.join(out, "shot_00003.png"), bytes: 103, skipped: true },
    ],
  });
  expect((await fs.readFile(path.join(out, "shot_00002.png"))).equals(image(2))).toBe(true);
  expect(again.stderr).toContain("Downloaded 1 frame (102 B)");
  expect(again.stderr).toContain("2 already there");
});

test("--frames narrows the download; a range with nothing rendered exits 4; a bad range exits 2", async () => {
  await loggedIn();
  const fetched = withFrames();
  expect((await cactus(["render", "download", "12", "--out", out, "--frames", "2-4"])).code).toBe(0);
  expect(fetched).toEqual([2, 3]);
  const nothing = await cactus(["render", "download", "12", "--out", out, "--frames", "4"]);
  expect(nothing.code).toBe(4);
  expect(nothing.stderr).toContain("render 12 has no rendered frames in 4 yet");
  const reversed = await cactus(["render", "download", "12", "--out", out, "--frames", "3-1"]);
  expect(reversed.code).toBe(2);
  expect(reversed.stderr).toContain("--frames: Frames 3-1 are reversed; write 1-3.");
  expect(fetched).toEqual([2, 3]);
});

test("a progress bar on a terminal's stderr, none in a pipe", async () => {
  await loggedIn();
  withFrames();
  const tty = await cactus(["render", "download", "12", "--out", out], { stderrTTY: true });
  expect(tty.stderr).toMatch(/downloading [█░]+ 100% 306 B\/306 B/);
  await fs.rm(out, { recursive: true });
  const pipe = await cactus(["render", "download", "12", "--out", out]);
  expect(pipe.stderr).not.toContain("downloading");
});

test("--zip saves the server's zip under the name it gives, with the frames asked for", async () => {
  await loggedIn();
  const zip = Buffer.from("PK\u0003\u0004 a zip of frames");
  const queries: string[] = [];
  server.use(
    http.get(`${API}/renders/12/download.zip`, ({ request }) => {
      queries.push(new URL(request.url).search);
      return new HttpResponse(zip, {
        headers: {
          "Content-Type": "application/zip",
          "Content-Length": String(zip.length),
          "Content-Disposition": 'attachment; filename="shot_render12.zip"',
        },
      });
    }),
  );
  const result = await cactus(["render", "download", "12", "--out", out, "--zip", "--frames", "1-24:2", "--json"]);
  expect(result.code).toBe(0);
  const file = path.join(out, "shot_render12.zip");
  expect(JSON.parse(result.stdout)).toEqual({ id: 12, file, bytes: zip.length });
  expect((await fs.readFile(file)).equals(zip)).toBe(true);
  expect(queries).toEqual(["?frames=1-24%3A2"]);
  expect(await fs.readdir(out)).toEqual(["shot_render12.zip"]);
});

test("--zip of a render with nothing rendered exits 4 and leaves no file", async () => {
  await loggedIn();
  server.use(
    http.get(`${API}/renders/12/download.zip`, () =>
      HttpResponse.json(apiError("not_found", "Render 12 has no rendered frames yet."), { status: 404 }),
    ),
  );
  const result = await cactus(["render", "download", "12", "--out", out, "--zip"]);
  expect(result.code).toBe(4);
  expect(result.stderr).toContain("Render 12 has no rendered frames yet.");
  expect(await fs.readdir(out)).toEqual([]);
});

test("a download cut off midway leaves no file that looks finished", async () => {
  await loggedIn();
  server.use(
    http.get(`${API}/renders/12/frames`, () => HttpResponse.json({ frames: [frame(1)] })),
    http.get(`${API}/renders/12/frames/1`, () => {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(50));
          controller.error(new Error("connection reset"));
        },
      });
      return new HttpResponse(body, { headers: { "Content-Type": "image/png" } });
    }),
  );
  const result = await cactus(["render", "download", "12", "--out", out]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`could not save ${path.join(out, "shot_00001.png")}`);
  expect(await fs.readdir(out)).toEqual([]);
});
