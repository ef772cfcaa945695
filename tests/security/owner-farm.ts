import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { ApiToken } from "../../db/models";
import { claimTask } from "../../db/sql/queue";
import { createWorkerWithToken } from "../helpers/agent-api";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { deliverFrame } from "../helpers/renders";
import type { TestServer } from "../helpers/server";
import { signInWithCookie } from "../helpers/sessions";
import { createUserWithToken, testDatabase } from "../helpers/users";

// One user's whole farm (a project, an archive, a render with a frame delivered, workers,
// a leased task, tokens, an invitation), and the callers that are not that user, for the
// authorization matrix and the bad-input tests.

/** Written into everything the owner names: it must never show up in another caller's answer. */
export const MARKER = `owner-secret-${randomBytes(4).toString("hex")}`;

export interface OwnerFarm {
  ids: Record<string, string>;
  /** Authorization (or Cookie) headers of each caller. */
  callers: Record<Principal, Record<string, string>>;
}

/** The owner's own callers (the control of each row), then everyone who is not the owner. */
export const PRINCIPALS = [
  "owner",
  "ownerCookie",
  "ownerWorker",
  "anonymous",
  "otherToken",
  "otherCookie",
  "otherWorker",
  "revokedToken",
  "disabledWorker",
] as const;
export type Principal = (typeof PRINCIPALS)[number];

export async function buildOwnerFarm(server: TestServer): Promise<OwnerFarm> {
  const sequelize = testDatabase(server);
  const owner = await createUserWithToken(server, "owner");
  const other = await createUserWithToken(server, "other");
  const api = new ArchiveApi(server, owner.token);

  const project = await api.createProject(`${MARKER} project`);
  const archive = await uploaded(await api.upload(project.id, blend(300), { filename: `${MARKER}.blend` }));
  const render = await api.call("/renders", { body: { archiveId: archive.id, frames: "1-4" } });
  expect(render.status).toBe(201);
  const renderId = ((await render.json()) as { id: number }).id;

  const ownerWorker = await createWorkerWithToken(server, owner.user.id, { name: `${MARKER}-worker` });
  const disabled = await createWorkerWithToken(server, owner.user.id, { name: "switched-off", enabled: false });
  const otherWorker = await createWorkerWithToken(server, other.user.id, { name: "other-worker" });

  // The owner's worker holds a lease on the archive's inspection and on a render task, one frame delivered.
  // Leases of an hour: the tests on this farm run past the default minute on a loaded machine, and
  // the reaper taking a lease back would change the rows they compare before and after each call.
  const leases: Record<string, { id: number; token: string; frame: number | null }> = {};
  for (let round = 0; round < 3 && !(leases.render && leases.inspect); round++) {
    const task = await claimTask(sequelize, { workerId: ownerWorker.worker.id, leaseSeconds: 3600 });
    if (!task) break;
    leases[task.frameStart === null ? "inspect" : "render"] ??= { id: task.id, token: task.leaseToken, frame: task.frameStart };
  }
  expect(leases.render, "the owner's worker leased a render task").toBeDefined();
  const frame = leases.render.frame!;
  await deliverFrame(server, sequelize, { taskId: leases.render.id, workerId: ownerWorker.worker.id, leaseToken: leases.render.token }, frame);

  const invitation = await api.call("/invitations", { body: { email: "friend@example.com" } });
  expect(invitation.status).toBe(201);
  const spareToken = await api.call("/tokens", { body: { name: `${MARKER}-token` } });
  const spare = (await spareToken.json()) as { id: number };
  const revoked = await api.call("/tokens", { body: { name: "revoked" } });
  const revokedToken = (await revoked.json()) as { id: number; token: string };
  await ApiToken.update({ revokedAt: new Date() }, { where: { id: revokedToken.id } });

  const ownerCookie = await signInWithCookie(server.url, "owner", owner.password);
  const otherCookie = await signInWithCookie(server.url, "other", other.password);
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  return {
    ids: {
      projectId: String(project.id),
      archiveId: String(archive.id),
      hash: archive.hash,
      renderId: String(renderId),
      frame: String(frame),
      taskId: String(leases.render.id),
      leaseToken: leases.render.token,
      inspectTaskId: String(leases.inspect?.id ?? leases.render.id),
      inspectLeaseToken: leases.inspect?.token ?? leases.render.token,
      workerId: String(ownerWorker.worker.id),
      tokenId: String(spare.id),
      change: "pause",
    },
    callers: {
      owner: bearer(owner.token),
      ownerCookie: { Cookie: ownerCookie, Origin: server.url },
      ownerWorker: bearer(ownerWorker.token),
      anonymous: {},
      otherToken: bearer(other.token),
      otherCookie: { Cookie: otherCookie, Origin: server.url },
      otherWorker: bearer(otherWorker.token),
      revokedToken: bearer(revokedToken.token),
      disabledWorker: bearer(disabled.token),
    },
  };
}
