import { endpoints, type EndpointName } from "../../contract";
import { HELLO, pngBytes, SCENE_FACTS } from "../helpers/agent-api";

// Every route the server answers, one row per route file and method, for the
// authorization matrix (authz-matrix.test.ts) and the bad-input test (bad-input.test.ts).
// A route file under app/routes, or an endpoint of contract/endpoints.ts, without a row
// here fails both tests: add a row saying who may call it and what another user gets.

/**
 * Who a route is for:
 * - `public`: anyone (sign-in, sign-up, health, the OpenAPI document, the sign-in pages);
 * - `user`: a person's API token or browser session (the JSON API);
 * - `worker`: an agent's worker token (/api/v1/agent/…);
 * - `page`: a person's browser session (the PWA's pages and their forms).
 */
export type Access = "public" | "user" | "worker" | "page";

/**
 * What a caller who is not the owner gets when naming the owner's thing: `not-found` (404,
 * as if it did not exist), `stale` (409, a lease that is not theirs), or `own` (the call
 * acts on the caller's own things: a list of their own, a new thing of their own; it
 * must not show or touch the owner's).
 */
export type Others = "not-found" | "stale" | "own";

export type Ids = Record<string, string>;

export interface RouteRow {
  /** The route file under app/routes that answers it. */
  file: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** With `{param}`s filled from the owner's farm. */
  path: string;
  endpoint?: EndpointName;
  access: Access;
  others: Others;
  /** A body that would succeed for the owner (so a refusal is about who asks, not what is sent). */
  body?: (ids: Ids) => unknown;
  /** Raw bytes instead of JSON (uploads), with their media type. */
  bytes?: { type: string; data: () => Uint8Array };
  /** A form instead of JSON (pages' actions). */
  form?: (ids: Ids) => Record<string, string>;
  query?: (ids: Ids) => Record<string, string>;
  /** The status the owner gets (the control cell); null where calling it would change the farm under the other rows. */
  control: number | null;
  /** The owner's answer shows the owner's things: so the others' answers are seen to be able to show a leak. */
  controlShowsOwner?: boolean;
}

/** Pathless layouts: they answer no URL of their own. */
export const LAYOUT_FILES = ["_app.tsx", "_auth.tsx"];

const api = (
  endpoint: EndpointName,
  file: string,
  { path: ownPath, ...row }: Omit<RouteRow, "file" | "method" | "path" | "endpoint" | "access"> & { path?: string },
): RouteRow => {
  const { method, path, auth } = endpoints[endpoint];
  return {
    file,
    method: method.toUpperCase() as RouteRow["method"],
    path: `/api/v1${ownPath ?? path}`,
    endpoint,
    access: auth === "none" ? "public" : auth,
    ...row,
  };
};

const png = { type: "image/png", data: () => pngBytes(64, 48) };

export const ROUTES: RouteRow[] = [
  // Public API.
  api("login", "api.v1.auth.login.ts", { others: "own", body: () => ({ username: "nobody-at-all", password: "wrong password" }), control: 401 }),
  api("signup", "api.v1.auth.signup.ts", { others: "own", body: () => ({ invite: "cci_made-up", username: "newcomer", password: "a long enough password" }), control: 404 }),
  { file: "api.v1.health.ts", method: "GET", path: "/api/v1/health", access: "public", others: "own", control: 200 },
  { file: "api.v1.openapi[.]json.ts", method: "GET", path: "/api/v1/openapi.json", access: "public", others: "own", control: 200 },
  { file: "api.v1.$.ts", method: "GET", path: "/api/v1/no-such-endpoint", access: "public", others: "own", control: 404 },

  // A person's API.
  api("logout", "api.v1.auth.logout.ts", { others: "own", control: null }),
  api("me", "api.v1.me.ts", { others: "own", control: 200 }),
  api("changePassword", "api.v1.me.password.ts", { others: "own", body: () => ({ currentPassword: "not it at all", newPassword: "a brand new password" }), control: 403 }),
  api("createToken", "api.v1.tokens.ts", { others: "own", body: () => ({ name: "made by the matrix" }), control: 201 }),
  api("listTokens", "api.v1.tokens.ts", { others: "own", control: 200 }),
  api("revokeToken", "api.v1.tokens.$tokenId.ts", { others: "not-found", control: null }),
  api("createInvitation", "api.v1.invitations.ts", { others: "own", body: () => ({ email: "someone@example.com" }), control: 201 }),
  api("listInvitations", "api.v1.invitations.ts", { others: "own", control: 200 }),
  api("createProject", "api.v1.projects.ts", { others: "own", body: () => ({ name: "made by the matrix" }), control: null }),
  api("listProjects", "api.v1.projects.ts", { others: "own", control: 200 }),
  api("getProject", "api.v1.projects.$projectId.ts", { others: "not-found", control: 200 }),
  api("renameProject", "api.v1.projects.$projectId.ts", { others: "not-found", body: () => ({ name: "renamed by another" }), control: null }),
  api("deleteProject", "api.v1.projects.$projectId.ts", { others: "not-found", control: null }),
  api("listArchives", "api.v1.projects.$projectId.archives.ts", { others: "not-found", control: 200 }),
  api("uploadArchive", "api.v1.projects.$projectId.archives.ts", {
    others: "not-found",
    bytes: { type: "application/octet-stream", data: () => Buffer.from("BLENDER-v304RENDH") },
    query: () => ({ filename: "planted.blend" }),
    control: null,
  }),
  api("dedupeArchive", "api.v1.projects.$projectId.archives.dedupe.ts", {
    others: "not-found",
    body: (ids) => ({ sha256: ids.hash, filename: "again.blend" }),
    control: 200,
  }),
  api("getArchive", "api.v1.archives.$archiveId.ts", { others: "not-found", control: 200 }),
  api("requestRender", "api.v1.renders.ts", { others: "not-found", body: (ids) => ({ archiveId: Number(ids.archiveId), frames: "1-2" }), control: null }),
  api("listRenders", "api.v1.renders.ts", { others: "own", control: 200 }),
  api("getRender", "api.v1.renders.$renderId.ts", { others: "not-found", control: 200 }),
  api("cancelRender", "api.v1.renders.$renderId.$change.ts", { others: "not-found", control: null }),
  api("pauseRender", "api.v1.renders.$renderId.$change.ts", { others: "not-found", control: null }),
  api("resumeRender", "api.v1.renders.$renderId.$change.ts", { others: "not-found", control: null }),
  api("confirmRender", "api.v1.renders.$renderId.$change.ts", { others: "not-found", control: null }),
  api("getRenderEstimate", "api.v1.renders.$renderId.estimate.ts", { others: "not-found", control: 200 }),
  api("listRenderFrames", "api.v1.renders.$renderId.frames.ts", { others: "not-found", control: 200 }),
  api("listRenderFailures", "api.v1.renders.$renderId.failures.ts", { others: "not-found", control: 200 }),
  api("getRenderFrame", "api.v1.renders.$renderId.frames.$frame.ts", { others: "not-found", control: 200 }),
  api("getRenderFrameThumbnail", "api.v1.renders.$renderId.frames.$frame.thumbnail.ts", { others: "not-found", control: 200 }),
  api("downloadRender", "api.v1.renders.$renderId.download[.]zip.ts", { others: "not-found", control: 200 }),
  // Event streams: the matrix reads what they send in their first moments (the state they follow), then closes them.
  api("renderEvents", "api.v1.renders.$renderId.events.ts", { others: "not-found", control: 200, controlShowsOwner: true }),
  // Another user's stream follows their own renders: what it sends at once must not show the owner's.
  api("renderListEvents", "api.v1.renders.events.ts", { others: "own", control: 200, controlShowsOwner: true }),
  api("changeRender", "api.v1.renders.$renderId.ts", { others: "not-found", body: () => ({ onlyEnabledWorkers: false }), control: 200 }),
  api("topUpRender", "api.v1.renders.$renderId.top-up.ts", { others: "not-found", body: () => ({ credits: 1 }), control: null }),
  api("listRenderWorkers", "api.v1.renders.$renderId.workers.ts", { others: "not-found", control: 200 }),
  api("switchRenderWorker", "api.v1.renders.$renderId.workers.$workerId.ts", { others: "not-found", body: () => ({ allowed: true }), control: null }),
  api("getCredits", "api.v1.me.credits.ts", { others: "own", control: 200 }),
  // Admins only: the matrix's owner is not one.
  api("grantCredits", "api.v1.credits.grants.ts", { others: "own", body: () => ({ username: "nobody-at-all", credits: 5 }), control: 403 }),
  // Requests are other people's renders: the owner's own render is none of theirs to answer.
  api("listRequests", "api.v1.requests.ts", { others: "own", control: 200 }),
  api("acceptRequest", "api.v1.requests.$renderId.$decision.ts", { others: "not-found", control: 404 }),
  api("declineRequest", "api.v1.requests.$renderId.$decision.ts", { others: "not-found", control: 404 }),
  api("getRequestRule", "api.v1.requests.rule.ts", { others: "own", control: 200 }),
  api("setRequestRule", "api.v1.requests.rule.ts", { others: "own", body: () => ({ minPrice: 999_999, from: null }), control: null }),
  api("deleteRequestRule", "api.v1.requests.rule.ts", { others: "own", control: null }),
  api("getFame", "api.v1.fame.ts", { others: "own", control: 200 }),
  api("createWorker", "api.v1.workers.ts", { others: "own", body: () => ({ name: "made-by-the-matrix" }), control: null }),
  api("listWorkers", "api.v1.workers.ts", { others: "own", control: 200 }),
  api("updateWorker", "api.v1.workers.$workerId.ts", { others: "not-found", body: () => ({ name: "renamed-by-another" }), control: null }),
  api("deleteWorker", "api.v1.workers.$workerId.ts", { others: "not-found", control: null }),

  // The agents' API: the lease is the owner's worker's.
  api("agentHello", "api.v1.agent.hello.ts", {
    others: "own",
    body: () => HELLO,
    control: null,
  }),
  api("agentClaim", "api.v1.agent.claim.ts", { others: "own", body: () => ({}), control: null }),
  api("agentBenchmark", "api.v1.agent.benchmark.ts", {
    others: "own",
    body: () => ({ blenderVersion: "3.4.1", cpuModel: "Matrix CPU", threads: 2, wupm: 4, seconds: 15, renders: 5, spread: 0.03, wallSeconds: 80 }),
    control: null,
  }),
  api("agentHeartbeat", "api.v1.agent.tasks.$taskId.heartbeat.ts", {
    others: "stale",
    body: (ids) => ({ leaseToken: ids.leaseToken, progress: 0.5 }),
    control: null,
  }),
  api("agentUploadFrame", "api.v1.agent.tasks.$taskId.frames.$frame.ts", {
    others: "stale",
    bytes: png,
    query: (ids) => ({ leaseToken: ids.leaseToken, renderTimeMs: "1000" }),
    control: null,
  }),
  api("agentComplete", "api.v1.agent.tasks.$taskId.complete.ts", { others: "stale", body: (ids) => ({ leaseToken: ids.leaseToken }), control: null }),
  api("agentFail", "api.v1.agent.tasks.$taskId.fail.ts", {
    others: "stale",
    body: (ids) => ({ leaseToken: ids.leaseToken, error: "planted", logTail: "" }),
    control: null,
  }),
  api("agentRelease", "api.v1.agent.tasks.$taskId.release.ts", { others: "stale", body: (ids) => ({ leaseToken: ids.leaseToken }), control: null }),
  api("agentInspection", "api.v1.agent.tasks.$taskId.inspection.ts", {
    path: "/agent/tasks/{inspectTaskId}/inspection",
    others: "stale",
    body: (ids) => ({ leaseToken: ids.inspectLeaseToken, facts: SCENE_FACTS }),
    control: null,
  }),
  api("agentDownloadArchive", "api.v1.agent.archives.$hash.ts", { others: "not-found", control: 200 }),
  api("agentNextArchives", "api.v1.agent.next-archives.ts", { others: "own", control: 200 }),

  // What a machine installs from the farm: the install scripts and the bundles, for anyone.
  { file: "agent.$file.ts", method: "GET", path: "/agent/install.sh", access: "public", others: "own", control: 200 },
  { file: "cli.$file.ts", method: "GET", path: "/cli/install.sh", access: "public", others: "own", control: 200 },

  // The PWA's pages and their forms.
  { file: "_auth.$.tsx", method: "GET", path: "/no-such-page", access: "public", others: "own", control: 404 },
  { file: "_index.tsx", method: "GET", path: "/", access: "public", others: "own", control: 302 },
  { file: "_auth.login.tsx", method: "GET", path: "/login", access: "public", others: "own", control: 200 },
  { file: "_auth.login.tsx", method: "POST", path: "/login", access: "public", others: "own", form: () => ({ username: "nobody", password: "wrong" }), control: 401 },
  { file: "_auth.signup.tsx", method: "GET", path: "/signup", access: "public", others: "own", control: 200 },
  {
    file: "_auth.signup.tsx",
    method: "POST",
    path: "/signup",
    access: "public",
    others: "own",
    form: () => ({ code: "cci_made-up", username: "newcomer2", password: "a long enough password" }),
    control: 404,
  },
  // Setup exists only while the farm has no user: now it sends everyone to sign in.
  { file: "_auth.setup.tsx", method: "GET", path: "/setup", access: "public", others: "own", control: 302 },
  { file: "_auth.setup.tsx", method: "POST", path: "/setup", access: "public", others: "own", form: () => ({ code: "ccs_x", username: "usurper", password: "a long enough password" }), control: 302 },
  { file: "logout.tsx", method: "POST", path: "/logout", access: "page", others: "own", control: null },
  { file: "_app.projects._index.tsx", method: "GET", path: "/projects", access: "page", others: "own", control: 200 },
  { file: "_app.projects._index.tsx", method: "POST", path: "/projects", access: "page", others: "not-found", form: (ids) => ({ intent: "delete", projectId: ids.projectId }), control: null },
  { file: "_app.projects.$projectId.tsx", method: "GET", path: "/projects/{projectId}", access: "page", others: "not-found", control: 200 },
  {
    file: "_app.projects.$projectId.tsx",
    method: "POST",
    path: "/projects/{projectId}",
    access: "page",
    others: "not-found",
    form: (ids) => ({ intent: "render", archiveId: ids.archiveId, frames: "1-2", format: "PNG", price: "0" }),
    control: null,
  },
  { file: "_app.renders._index.tsx", method: "GET", path: "/renders", access: "page", others: "own", control: 200 },
  { file: "_app.renders.$renderId.tsx", method: "GET", path: "/renders/{renderId}", access: "page", others: "not-found", control: 200 },
  { file: "_app.renders.$renderId.tsx", method: "POST", path: "/renders/{renderId}", access: "page", others: "not-found", form: () => ({ intent: "cancel" }), control: null },
  { file: "_app.workers._index.tsx", method: "GET", path: "/workers", access: "page", others: "own", control: 200 },
  { file: "_app.workers._index.tsx", method: "POST", path: "/workers", access: "page", others: "not-found", form: (ids) => ({ intent: "remove", workerId: ids.workerId }), control: null },
  { file: "_app.requests.tsx", method: "GET", path: "/requests", access: "page", others: "own", control: 200 },
  // Another person's answer to the owner's own render: it asks nobody for workers, so no one can answer it.
  { file: "_app.requests.tsx", method: "POST", path: "/requests", access: "page", others: "not-found", form: (ids) => ({ intent: "accept", renderId: ids.renderId }), control: 404 },
  { file: "_app.fame.tsx", method: "GET", path: "/fame", access: "page", others: "own", control: 200 },
  { file: "_app.me/route.tsx", method: "GET", path: "/me", access: "page", others: "own", control: 200 },
  { file: "_app.me/route.tsx", method: "POST", path: "/me", access: "page", others: "not-found", form: (ids) => ({ intent: "revoke-token", tokenId: ids.tokenId }), control: null },
];

/** The row's URL with the owner's ids in it. */
export function urlOf(row: RouteRow, ids: Ids): string {
  const path = row.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    if (!(name in ids)) throw new Error(`No id for {${name}} in the owner's farm (tests/security/owner-farm.ts).`);
    return encodeURIComponent(ids[name]);
  });
  const query = row.query ? `?${new URLSearchParams(row.query(ids))}` : "";
  return `${path}${query}`;
}

/** The route files under app/routes: a folder's route.tsx, or a file. */
export function routeFileOf(entry: { name: string; isDirectory: boolean }): string {
  return entry.isDirectory ? `${entry.name}/route.tsx` : entry.name;
}
