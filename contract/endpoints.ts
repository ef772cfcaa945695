import { z } from "zod";
import * as accounts from "./accounts";
import * as agent from "./agent";
import * as archives from "./archives";
import * as economy from "./economy";
import type { ErrorCode } from "./errors";
import * as projects from "./projects";
import * as renders from "./renders";
import * as workers from "./workers";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface Endpoint {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/projects/{projectId}`; relative to `/api/v1`. */
  path: string;
  summary: string;
  /** "user": an API token (cct_…) or the PWA's session; "worker": a worker token (ccw_…), for agents. */
  auth: "none" | "user" | "worker";
  request?: z.ZodType;
  /** Set for endpoints whose body is raw bytes rather than JSON: the media types it takes. */
  binaryBody?: { mediaTypes: readonly string[]; sha256Header?: boolean };
  query?: z.ZodObject;
  /** Path parameters that are not positive integer ids (those need no entry). */
  params?: z.ZodObject;
  response?: z.ZodType;
  /** Set for endpoints that answer something other than JSON (bytes, an image, a zip, events): its media type. */
  binaryResponse?: string;
  /** Status of a success; 204 has no body. */
  status: 200 | 201 | 204;
  /** Another success: 200 when an upload found its bytes already there, 204 when there is nothing, 206 for a Range. */
  alsoStatus?: 200 | 204 | 206;
  /** Errors beyond those that follow from what the endpoint takes (see errorCodesOf in openapi.ts). */
  errors?: readonly ErrorCode[];
}

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/x-exr"] as const;
const taskPath = (verb: string) => `/agent/tasks/{taskId}/${verb}`;
/** A frame in a path: Blender's first frame is 0. */
const framePathSchema = z.object({ frame: z.number().int().min(0) });

/** Every endpoint of `/api/v1`; the OpenAPI document is generated from this list. */
export const endpoints = {
  login: {
    method: "post",
    path: "/auth/login",
    summary: "Sign in with a password; answers with a new API token.",
    auth: "none",
    request: accounts.loginRequestSchema,
    response: accounts.sessionTokenResponseSchema,
    status: 201,
  },
  signup: {
    method: "post",
    path: "/auth/signup",
    summary: "Redeem an invitation: creates the account and an API token.",
    auth: "none",
    request: accounts.signupRequestSchema,
    response: accounts.sessionTokenResponseSchema,
    status: 201,
  },
  logout: {
    method: "post",
    path: "/auth/logout",
    summary: "Revoke the API token that made this request.",
    auth: "user",
    status: 204,
  },
  me: { method: "get", path: "/me", summary: "Who the token belongs to.", auth: "user", response: accounts.userSchema, status: 200 },
  changePassword: {
    method: "post",
    path: "/me/password",
    summary: "Change my password; every browser session but the one asking is signed out. API tokens stay.",
    auth: "user",
    request: accounts.changePasswordRequestSchema,
    response: accounts.changePasswordResponseSchema,
    status: 200,
    errors: ["rate_limited"],
  },
  createToken: {
    method: "post",
    path: "/tokens",
    summary: "Create an API token (shown once).",
    auth: "user",
    request: accounts.createTokenRequestSchema,
    response: accounts.createdTokenSchema,
    status: 201,
  },
  listTokens: { method: "get", path: "/tokens", summary: "My API tokens.", auth: "user", response: accounts.tokenListSchema, status: 200 },
  revokeToken: { method: "delete", path: "/tokens/{tokenId}", summary: "Revoke an API token.", auth: "user", status: 204 },
  createInvitation: {
    method: "post",
    path: "/invitations",
    summary: "Invite someone: a one-time code and link.",
    auth: "user",
    request: accounts.createInvitationRequestSchema,
    response: accounts.createdInvitationSchema,
    status: 201,
  },
  listInvitations: {
    method: "get",
    path: "/invitations",
    summary: "Invitations I sent.",
    auth: "user",
    response: accounts.invitationListSchema,
    status: 200,
  },
  createProject: {
    method: "post",
    path: "/projects",
    summary: "Create a project.",
    auth: "user",
    request: projects.createProjectRequestSchema,
    response: projects.projectSchema,
    status: 201,
  },
  listProjects: { method: "get", path: "/projects", summary: "My projects.", auth: "user", response: projects.projectListSchema, status: 200 },
  getProject: { method: "get", path: "/projects/{projectId}", summary: "One project.", auth: "user", response: projects.projectSchema, status: 200 },
  renameProject: {
    method: "patch",
    path: "/projects/{projectId}",
    summary: "Rename a project.",
    auth: "user",
    request: projects.renameProjectRequestSchema,
    response: projects.projectSchema,
    status: 200,
  },
  deleteProject: {
    method: "delete",
    path: "/projects/{projectId}",
    summary: "Delete a project and its archives (refused while one of its renders runs).",
    auth: "user",
    status: 204,
  },
  listArchives: {
    method: "get",
    path: "/projects/{projectId}/archives",
    summary: "Archives of a project.",
    auth: "user",
    response: archives.archiveListSchema,
    status: 200,
  },
  uploadArchive: {
    method: "post",
    path: "/projects/{projectId}/archives",
    summary: "Upload a .blend or .zip as the raw request body (streamed, hashed on the way); 200 when the project already held it.",
    auth: "user",
    binaryBody: { mediaTypes: ["application/octet-stream"], sha256Header: true },
    query: archives.uploadQuerySchema,
    response: archives.uploadedArchiveSchema,
    status: 201,
    alsoStatus: 200,
  },
  dedupeArchive: {
    method: "post",
    path: "/projects/{projectId}/archives/dedupe",
    summary:
      "Add an archive by its sha256 without sending it, when the server has those bytes (404 otherwise); 200 when the project already held it.",
    auth: "user",
    request: archives.dedupeRequestSchema,
    response: archives.uploadedArchiveSchema,
    status: 201,
    alsoStatus: 200,
    // Another main .blend of a stored zip is checked as an upload would be.
    errors: ["unprocessable"],
  },
  getArchive: {
    method: "get",
    path: "/archives/{archiveId}",
    summary: "One archive: what its header says, everything an agent found in its scene, and whether a render of it as it is would be refused.",
    auth: "user",
    response: archives.archiveSchema,
    status: 200,
  },
  agentHello: {
    method: "post",
    path: "/agent/hello",
    summary: "An agent says what it is (Blender version, threads, denoiser) and whether it is awake.",
    auth: "worker",
    request: agent.helloRequestSchema,
    response: agent.helloResponseSchema,
    status: 200,
  },
  agentClaim: {
    method: "post",
    path: "/agent/claim",
    summary:
      "Lease the next task for this worker; 204 when there is none. With waitSeconds, an idle agent's claim is held until a task it may take appears (a long poll).",
    auth: "worker",
    request: agent.claimRequestSchema,
    response: agent.claimResponseSchema,
    status: 200,
    alsoStatus: 204,
  },
  agentNextArchives: {
    method: "get",
    path: "/agent/next-archives",
    summary: "The archives of the work this worker is likely to get next, for its agent to fetch while it renders.",
    auth: "worker",
    response: agent.nextArchivesResponseSchema,
    status: 200,
  },
  agentHeartbeat: {
    method: "post",
    path: taskPath("heartbeat"),
    summary: "Extend the lease and report progress; keepRunning false when the render was paused or cancelled, 409 when the lease is stale.",
    auth: "worker",
    request: agent.heartbeatRequestSchema,
    response: agent.heartbeatResponseSchema,
    status: 200,
  },
  agentUploadFrame: {
    method: "put",
    path: "/agent/tasks/{taskId}/frames/{frame}",
    summary:
      "Upload one rendered frame as the raw body; 422 when the image is refused (a failure of this worker), 200 when the frame was already accepted.",
    auth: "worker",
    binaryBody: { mediaTypes: IMAGE_TYPES },
    query: agent.frameUploadQuerySchema,
    params: framePathSchema,
    response: agent.frameResultSchema,
    status: 201,
    alsoStatus: 200,
  },
  agentComplete: {
    method: "post",
    path: taskPath("complete"),
    summary: "Finish a render task; 422 while one of its frames has no accepted image.",
    auth: "worker",
    request: agent.completeRequestSchema,
    response: agent.completeResponseSchema,
    status: 200,
    errors: ["unprocessable"],
  },
  agentFail: {
    method: "post",
    path: taskPath("fail"),
    summary: "Give up a task with Blender's errors and log tail; it fails once 3 different workers failed it.",
    auth: "worker",
    request: agent.failRequestSchema,
    response: agent.failResponseSchema,
    status: 200,
  },
  agentRelease: {
    method: "post",
    path: taskPath("release"),
    summary: "Give a task back without counting a failure (the agent is stopping).",
    auth: "worker",
    request: agent.releaseRequestSchema,
    response: agent.releaseResponseSchema,
    status: 200,
  },
  agentBenchmark: {
    method: "post",
    path: "/agent/benchmark",
    summary: "Record what this worker's benchmark measured: its WUPM from now on, kept in its history.",
    auth: "worker",
    request: agent.benchmarkRequestSchema,
    response: agent.benchmarkResponseSchema,
    status: 201,
  },
  agentInspection: {
    method: "post",
    path: taskPath("inspection"),
    summary: "Finish an inspect task with the scene facts Blender read from the archive.",
    auth: "worker",
    request: agent.inspectionRequestSchema,
    response: agent.inspectionResponseSchema,
    status: 200,
  },
  agentDownloadArchive: {
    method: "get",
    path: "/agent/archives/{hash}",
    summary: "The bytes of an archive a task leased to this worker uses (404 otherwise); a Range resumes a cut download.",
    auth: "worker",
    params: z.object({ hash: archives.sha256Schema }),
    binaryResponse: "application/octet-stream",
    status: 200,
    alsoStatus: 206,
    errors: ["range_not_satisfiable"],
  },
  requestRender: {
    method: "post",
    path: "/renders",
    summary:
      "Request a render of one of my archives. It starts `estimating`: its sample frames, spread across the timeline, " +
      "render first, then it is `quoted` and, unless estimateOnly, queued on its own (a render too short to sample is " +
      "queued at once). Without frames, the scene's own range (422 until the archive is inspected).",
    auth: "user",
    request: renders.renderRequestSchema,
    response: renders.renderSchema,
    errors: ["unprocessable"],
    status: 201,
  },
  listRenders: { method: "get", path: "/renders", summary: "My renders, newest first.", auth: "user", response: renders.renderListSchema, status: 200 },
  getRender: {
    method: "get",
    path: "/renders/{renderId}",
    summary: "One render: its frames by status, the workers on it, why it failed.",
    auth: "user",
    response: renders.renderSchema,
    status: 200,
  },
  cancelRender: {
    method: "post",
    path: "/renders/{renderId}/cancel",
    summary: "Cancel a render that has not finished; its agents stop at their next heartbeat.",
    auth: "user",
    response: renders.renderSchema,
    status: 200,
  },
  getRenderEstimate: {
    method: "get",
    path: "/renders/{renderId}/estimate",
    summary:
      "A render's estimate: total WU with a band, credits, ETA and the WU-per-frame curve, made again after every accepted frame; " +
        "the quote it had when its sample frames were in; and its expected start at its price (or at ?price=P).",
    auth: "user",
    query: renders.renderEstimateQuerySchema,
    response: renders.renderEstimateSchema,
    status: 200,
  },
  confirmRender: {
    method: "post",
    path: "/renders/{renderId}/confirm",
    summary: "Accept a quoted render's quote: its other frames are queued (409 unless it is quoted).",
    auth: "user",
    response: renders.renderSchema,
    status: 200,
  },
  pauseRender: {
    method: "post",
    path: "/renders/{renderId}/pause",
    summary: "Stop handing out a render's tasks; running ones are given back.",
    auth: "user",
    response: renders.renderSchema,
    status: 200,
  },
  resumeRender: {
    method: "post",
    path: "/renders/{renderId}/resume",
    summary: "Hand out a paused render's tasks again.",
    auth: "user",
    response: renders.renderSchema,
    status: 200,
  },
  listRenderFrames: {
    method: "get",
    path: "/renders/{renderId}/frames",
    summary: "Every frame of a render with its status (or those in `frames`, e.g. a page of them).",
    auth: "user",
    query: renders.framesQuerySchema,
    response: renders.frameListSchema,
    status: 200,
  },
  listRenderFailures: {
    method: "get",
    path: "/renders/{renderId}/failures",
    summary: "A render's failed tries, newest first: the task's frames, the worker, the error and the end of Blender's log.",
    auth: "user",
    response: renders.renderFailureListSchema,
    status: 200,
  },
  getRenderFrame: {
    method: "get",
    path: "/renders/{renderId}/frames/{frame}",
    summary: "A rendered frame's image (PNG, JPEG or OpenEXR), as an attachment named like shot_00012.png.",
    auth: "user",
    params: framePathSchema,
    binaryResponse: "image/*",
    status: 200,
  },
  getRenderFrameThumbnail: {
    method: "get",
    path: "/renders/{renderId}/frames/{frame}/thumbnail",
    summary: "A small preview of a rendered frame.",
    auth: "user",
    params: framePathSchema,
    binaryResponse: "image/*",
    status: 200,
  },
  downloadRender: {
    method: "get",
    path: "/renders/{renderId}/download.zip",
    summary: "A zip of the render's rendered frames (or those in `frames`), streamed as it is made.",
    auth: "user",
    query: renders.downloadQuerySchema,
    binaryResponse: "application/zip",
    status: 200,
  },
  renderEvents: {
    method: "get",
    path: "/renders/{renderId}/events",
    summary:
      "Server-sent events: `event: render` with the render's JSON (as getRender) now and whenever it changes; with " +
      "`frames`, also `event: frames` with `{frames: [...]}`: those frames of that range (as listRenderFrames) now and " +
      "whenever some change, only the changed ones. A comment every 15 s; the stream ends when the render does.",
    auth: "user",
    query: renders.framesQuerySchema,
    binaryResponse: "text/event-stream",
    status: 200,
  },
  renderListEvents: {
    method: "get",
    path: "/renders/events",
    summary:
      "Server-sent events for all my renders: `event: render` with a render's JSON (as getRender) for each unfinished " +
      "one now, then for any render of mine (a new one too) whenever it changes. A comment every 15 s.",
    auth: "user",
    binaryResponse: "text/event-stream",
    status: 200,
  },
  getCredits: {
    method: "get",
    path: "/me/credits",
    summary: "My credits: balance, what my unfinished renders hold in escrow, and the ledger's newest entries.",
    auth: "user",
    response: accounts.creditsSchema,
    status: 200,
  },
  grantCredits: {
    method: "post",
    path: "/credits/grants",
    summary: "Grant credits to a user from the farm's account (admins only).",
    auth: "user",
    request: accounts.grantCreditsRequestSchema,
    response: accounts.creditsSchema,
    errors: ["forbidden"],
    status: 201,
  },
  changeRender: {
    method: "patch",
    path: "/renders/{renderId}",
    summary:
      "Change a render's price per WU (its priority; once confirmed, its escrow follows: more is taken from my balance, or " +
      "given back) or whether only workers I switch on may render it. 409 when my balance cannot pay a higher price.",
    auth: "user",
    request: economy.changeRenderRequestSchema,
    response: renders.renderSchema,
    errors: ["conflict"],
    status: 200,
  },
  topUpRender: {
    method: "post",
    path: "/renders/{renderId}/top-up",
    summary: "Move credits from my balance into a render's escrow; a render waiting in needs-credits goes on once it covers a frame.",
    auth: "user",
    request: economy.topUpRequestSchema,
    response: renders.renderSchema,
    errors: ["conflict"],
    status: 200,
  },
  listRenderWorkers: {
    method: "get",
    path: "/renders/{renderId}/workers",
    summary: "The workers that may render this render or did: mine and other people's that accepted it, with my switch for each.",
    auth: "user",
    response: economy.renderWorkersSchema,
    status: 200,
  },
  switchRenderWorker: {
    method: "put",
    path: "/renders/{renderId}/workers/{workerId}",
    summary: "Switch a worker on or off for this render.",
    auth: "user",
    request: economy.switchRenderWorkerRequestSchema,
    response: economy.renderWorkersSchema,
    status: 200,
  },
  listRequests: {
    method: "get",
    path: "/requests",
    summary: "Other people's confirmed renders asking for my workers: the scene's facts, the quote and the price, and what I answered.",
    auth: "user",
    response: economy.requestListSchema,
    status: 200,
  },
  acceptRequest: {
    method: "post",
    path: "/requests/{renderId}/accept",
    summary: "Let my workers render this render (sandboxed ones, or those I let run other people's files without).",
    auth: "user",
    response: economy.renderRequestCardSchema,
    status: 200,
  },
  declineRequest: {
    method: "post",
    path: "/requests/{renderId}/decline",
    summary: "Keep my workers off this render; a task one holds finishes.",
    auth: "user",
    response: economy.renderRequestCardSchema,
    status: 200,
  },
  getRequestRule: {
    method: "get",
    path: "/requests/rule",
    summary: "My standing rule, if I have one.",
    auth: "user",
    response: economy.requestRuleAnswerSchema,
    status: 200,
  },
  setRequestRule: {
    method: "put",
    path: "/requests/rule",
    summary: "Accept, from now on and for renders already asking, every render paying at least minPrice per WU, from anyone or from these people.",
    auth: "user",
    request: economy.requestRuleSchema,
    response: economy.requestRuleAnswerSchema,
    errors: ["unprocessable"],
    status: 200,
  },
  deleteRequestRule: {
    method: "delete",
    path: "/requests/rule",
    summary: "Drop my standing rule; what it accepted is no longer accepted (what I tapped stays).",
    auth: "user",
    status: 204,
  },
  getFame: {
    method: "get",
    path: "/fame",
    summary: "The hall of fame: contributors (person and machine) by WU and by render time, the longest frame and the longest render.",
    auth: "user",
    query: economy.fameQuerySchema,
    response: economy.fameSchema,
    status: 200,
  },
  createWorker: {
    method: "post",
    path: "/workers",
    summary: "Add a worker machine: answers its agent token (shown once).",
    auth: "user",
    request: workers.createWorkerRequestSchema,
    response: workers.createdWorkerSchema,
    status: 201,
  },
  listWorkers: { method: "get", path: "/workers", summary: "My workers.", auth: "user", response: workers.workerListSchema, status: 200 },
  updateWorker: {
    method: "patch",
    path: "/workers/{workerId}",
    summary: "Rename, enable or disable a worker.",
    auth: "user",
    request: workers.updateWorkerRequestSchema,
    response: workers.workerSchema,
    status: 200,
  },
  deleteWorker: {
    method: "delete",
    path: "/workers/{workerId}",
    summary: "Remove a worker: its token stops working, a task it holds goes back in the queue.",
    auth: "user",
    status: 204,
  },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof endpoints;
