import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import type { RenderFailureListDto } from "../../../contract";
import { apiError } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

// render failures: each failed try with the end of Blender's log.

const server = setupCliTest();

/** Blender's output, lines "line 1" … "line N". */
const log = (lines: number) => Array.from({ length: lines }, (_, index) => `line ${index + 1}`).join("\n");

const list: RenderFailureListDto = {
  failures: [
    {
      taskId: 41,
      frameStart: 7,
      frameEnd: 7,
      workerName: "laptop",
      error: "Error: Out of memory\nError: cannot allocate 2 GB",
      logTail: `${log(25)}\n`,
      blame: "machine",
      at: "2026-11-24T10:05:09.000Z",
    },
    { taskId: 40, frameStart: 1, frameEnd: 4, workerName: "studio-pc", error: "Blender exited with code 139", logTail: null, blame: "machine", at: "2026-11-24T10:01:00.000Z" },
  ],
  total: 2,
};

function answer(body: RenderFailureListDto = list): string[] {
  const asked: string[] = [];
  server.use(
    http.get(`${API}/renders/:id/failures`, ({ params }) => {
      asked.push(String(params.id));
      return HttpResponse.json(body);
    }),
  );
  return asked;
}

test("render failures prints each failure's header, its error and the last 20 lines of its log", async () => {
  await loggedIn();
  const asked = answer();
  const result = await cactus(["render", "failures", "12"]);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(
    [
      "Frame 7 · laptop · 2026-11-24 10:05 UTC (task 41)",
      "  Error: Out of memory",
      "  Error: cannot allocate 2 GB",
      "  │ … 5 earlier lines (--full shows them)",
      ...Array.from({ length: 20 }, (_, index) => `  │ line ${index + 6}`),
      "",
      "Frames 1-4 · studio-pc · 2026-11-24 10:01 UTC (task 40)",
      "  Blender exited with code 139",
      "",
    ].join("\n"),
  );
  expect(asked).toEqual(["12"]);
});

test("render failures --full prints every line of the log; --json is the list as the server sent it", async () => {
  await loggedIn();
  answer();
  const full = await cactus(["render", "failures", "12", "--full"]);
  expect(full.stdout).toContain("  │ line 1\n  │ line 2\n");
  expect(full.stdout).toContain("  │ line 25\n\nFrames 1-4");
  expect(full.stdout).not.toContain("earlier line");
  expect(JSON.parse((await cactus(["render", "failures", "12", "--json"])).stdout)).toEqual(list);
});

test("render failures says when there are none, and when older ones were left out", async () => {
  await loggedIn();
  answer({ failures: [], total: 0 });
  expect((await cactus(["render", "failures", "12"])).stdout).toBe("Render 12 has no failures.\n");
  answer({ failures: [list.failures[1]], total: 101 });
  expect((await cactus(["render", "failures", "12"])).stdout).toMatch(/code 139\n\nand 100 older failures, not listed\.\n$/);
});

test("render failures of another user's render exits 4 with the server's message; a bad id exits 2", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/99/failures`, () => HttpResponse.json(apiError("not_found", "You have no render 99."), { status: 404 })));
  const unknown = await cactus(["render", "failures", "99"]);
  expect(unknown.code).toBe(4);
  expect(unknown.stderr).toContain("You have no render 99.");
  const bad = await cactus(["render", "failures", "7-8"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('The render\'s id must be a positive whole number, like 12; got "7-8"');
});
