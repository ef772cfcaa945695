import { type z } from "zod";
import * as accounts from "./accounts";
import * as archives from "./archives";
import * as projects from "./projects";

export type HttpMethod = "get" | "post" | "patch" | "delete";

export interface Endpoint {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/projects/{projectId}`; relative to `/api/v1`. */
  path: string;
  summary: string;
  auth: "none" | "user";
  request?: z.ZodType;
  /** Set for endpoints whose body is raw bytes rather than JSON. */
  binaryBody?: boolean;
  query?: z.ZodObject;
  response?: z.ZodType;
  /** Status of a success; 204 has no body. */
  status: 200 | 201 | 204;
}

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
    summary: "Upload a .blend or .zip as the raw request body (streamed, hashed on the way).",
    auth: "user",
    binaryBody: true,
    query: archives.uploadQuerySchema,
    response: archives.uploadedArchiveSchema,
    status: 201,
  },
  dedupeArchive: {
    method: "post",
    path: "/projects/{projectId}/archives/dedupe",
    summary: "Add an archive by its sha256 without sending it, when the server has those bytes (404 otherwise).",
    auth: "user",
    request: archives.dedupeRequestSchema,
    response: archives.uploadedArchiveSchema,
    status: 201,
  },
  getArchive: { method: "get", path: "/archives/{archiveId}", summary: "One archive.", auth: "user", response: archives.archiveSchema, status: 200 },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof endpoints;
