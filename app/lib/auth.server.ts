import { createCookieSessionStorage, redirect, type SessionStorage } from "@remix-run/node";
import { ApiToken, User, type Worker } from "../../db/models";
import { findWorkerByToken, noteWorkerSeen } from "../models/agent.server";
import { apiError } from "./api.server";
import { hashSecret } from "./secrets.server";
import { getRuntime } from "./runtime.server";

let sessionStorage: SessionStorage | undefined;

function sessions(): SessionStorage {
  sessionStorage ??= createCookieSessionStorage({
    cookie: {
      name: "cactus_session",
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: getRuntime().config.CACTUS_PUBLIC_URL?.startsWith("https:") ?? false,
      secrets: [getRuntime().sessionSecret],
      maxAge: 60 * 60 * 24 * 30,
    },
  });
  return sessionStorage;
}

export async function getSessionUser(request: Request): Promise<User | null> {
  const session = await sessions().getSession(request.headers.get("Cookie"));
  const userId = session.get("userId") as number | undefined;
  return userId ? User.findByPk(userId) : null;
}

/** For pages: the signed-in user, or a redirect to the sign-in page that comes back here. */
export async function requireUser(request: Request): Promise<User> {
  const user = await getSessionUser(request);
  if (!user) {
    const url = new URL(request.url);
    throw redirect(`/login?${new URLSearchParams({ redirectTo: url.pathname + url.search })}`);
  }
  return user;
}

export async function requireAdmin(request: Request): Promise<User> {
  const user = await requireUser(request);
  if (user.role !== "admin") throw new Response("Only an admin can do this.", { status: 403 });
  return user;
}

export async function createUserSession(user: User, redirectTo: string): Promise<Response> {
  const session = await sessions().getSession();
  session.set("userId", user.id);
  return redirect(safeRedirect(redirectTo), { headers: { "Set-Cookie": await sessions().commitSession(session) } });
}

export async function destroyUserSession(request: Request): Promise<Response> {
  const session = await sessions().getSession(request.headers.get("Cookie"));
  return redirect("/login", { headers: { "Set-Cookie": await sessions().destroySession(session) } });
}

/** Only paths on this site, so a crafted link cannot send people elsewhere after sign-in. */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/"): string {
  if (typeof to !== "string" || !to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  return to;
}

export interface ApiCaller {
  user: User;
  /** The API token used, when the caller sent one (the PWA uses its session cookie). */
  token: ApiToken | null;
}

// Writing last_used_at on every request would make each read a write; once a minute is enough.
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * For the API: a user by `Authorization: Bearer <API token>` or, for the PWA's own
 * calls, by its session cookie. Otherwise a 401 in the API's error shape.
 */
export async function requireApiUser(request: Request): Promise<ApiCaller> {
  const authorization = request.headers.get("Authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) apiError("unauthorized", "Send the token as `Authorization: Bearer <token>`.");
    const token = await ApiToken.findOne({ where: { tokenHash: hashSecret(match[1]) } });
    if (!token) apiError("unauthorized", "This API token is not valid. Run `cactus login` or create a new token.");
    if (token.revokedAt) apiError("unauthorized", "This API token was revoked. Run `cactus login` or create a new token.");
    const user = await User.findByPk(token.userId);
    if (!user) apiError("unauthorized", "The account of this token no longer exists.");
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await token.update({ lastUsedAt: new Date() });
    }
    return { user, token };
  }
  const user = await getSessionUser(request);
  if (!user) apiError("unauthorized", "Sign in first: send `Authorization: Bearer <API token>` (see `cactus login`).");
  return { user, token: null };
}

export async function requireApiAdmin(request: Request): Promise<ApiCaller> {
  const caller = await requireApiUser(request);
  if (caller.user.role !== "admin") apiError("forbidden", "Only an admin can do this.");
  return caller;
}

/**
 * For the agent endpoints: the worker of `Authorization: Bearer <worker token>`. Unknown
 * tokens are a 401; a worker its owner disabled is a 403 (its agent sleeps and asks again),
 * though it still counts as seen, so the owner knows the machine is there.
 */
export async function requireWorker(request: Request): Promise<Worker> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("Authorization") ?? "");
  if (!match) apiError("unauthorized", "Send the worker token as `Authorization: Bearer ccw_…` (CACTUS_WORKER_TOKEN).");
  const worker = await findWorkerByToken(match[1]);
  if (!worker) {
    apiError(
      "unauthorized",
      "This worker token is not valid (the worker may have been removed). Create a worker with `cactus worker create NAME` and give its agent the new token.",
    );
  }
  await noteWorkerSeen(worker);
  if (!worker.enabled) {
    apiError("forbidden", `The owner disabled worker "${worker.name}": it gets no work until enabled again (\`cactus worker enable ${JSON.stringify(worker.name)}\`).`);
  }
  return worker;
}
