import { createCookie, redirect, type AppLoadContext, type Cookie } from "@remix-run/node";
import { ApiToken, User, type Session, type Worker } from "../../db/models";
import { findWorkerByToken, noteWorkerSeen } from "../models/agent.server";
import { endSession, findLiveSession, isSessionLive, openSession, sessionMaxAgeSeconds, type LiveSession } from "../models/session.server";
import { apiError } from "./api.server";
import { noteAuthenticated } from "./connections.server";
import { clientIp } from "./rate-limit.server";
import { hashSecret } from "./secrets.server";
import { getRuntime } from "./runtime.server";

let sessionCookie: Cookie | undefined;

/** The browser's session cookie: the signed secret of a session row (models/session.server.ts). */
function cookie(): Cookie {
  sessionCookie ??= createCookie("cactus_session", {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: getRuntime().config.CACTUS_PUBLIC_URL?.startsWith("https:") ?? false,
    secrets: [getRuntime().sessionSecret],
    maxAge: sessionMaxAgeSeconds(),
  });
  return sessionCookie;
}

/** The live session the request's cookie names, with its user; null when signed out. */
export async function getLiveSession(request: Request): Promise<LiveSession | null> {
  const secret: unknown = await cookie().parse(request.headers.get("Cookie"));
  if (typeof secret !== "string" || !secret.startsWith("ccb_")) return null;
  const live = await findLiveSession(secret);
  if (live) noteAuthenticated(request);
  return live;
}

export async function getSessionUser(request: Request): Promise<User | null> {
  return (await getLiveSession(request))?.user ?? null;
}

/** For pages: the signed-in user, or a redirect to the sign-in page that comes back here. */
export async function requireUser(request: Request): Promise<User> {
  return (await requireSession(request)).user;
}

/** For pages that act on the session itself (the Me page): the user and their session. */
export async function requireSession(request: Request): Promise<LiveSession> {
  const live = await getLiveSession(request);
  if (!live) {
    const url = new URL(request.url);
    throw redirect(`/login?${new URLSearchParams({ redirectTo: url.pathname + url.search })}`);
  }
  return live;
}

export async function requireAdmin(request: Request): Promise<User> {
  const user = await requireUser(request);
  if (user.role !== "admin") throw new Response("Only an admin can do this.", { status: 403 });
  return user;
}

/** Signs the user in on this browser: a new session row, its secret in the cookie. */
export async function createUserSession(
  request: Request,
  context: AppLoadContext,
  user: User,
  redirectTo: string,
): Promise<Response> {
  const secret = await openSession({
    userId: user.id,
    userAgent: request.headers.get("User-Agent"),
    ip: clientIp(request, context),
  });
  return redirect(safeRedirect(redirectTo), { headers: { "Set-Cookie": await cookie().serialize(secret) } });
}

/** Signs out: the session ends for good (a copy of the cookie is worth nothing), the cookie goes. */
export async function destroyUserSession(request: Request): Promise<Response> {
  const live = await getLiveSession(request);
  if (live) await endSession({ id: live.session.id, userId: live.user.id }, "signed-out");
  return redirect("/login", { headers: { "Set-Cookie": await cookie().serialize("", { maxAge: 0 }) } });
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
  /** The browser session used, when the caller came with its cookie. */
  session: Session | null;
  /** Whether the token or session is still good, for what runs long on it (an event stream). */
  stillAuthorized(): Promise<boolean>;
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
    noteAuthenticated(request);
    const stillAuthorized = async () => (await ApiToken.findByPk(token.id))?.revokedAt === null;
    return { user, token, session: null, stillAuthorized };
  }
  const live = await getLiveSession(request);
  if (!live) apiError("unauthorized", "Sign in first: send `Authorization: Bearer <API token>` (see `cactus login`).");
  return { user: live.user, token: null, session: live.session, stillAuthorized: () => isSessionLive(live.session.id) };
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
  noteAuthenticated(request);
  if (!worker.enabled) {
    apiError("forbidden", `The owner disabled worker "${worker.name}": it gets no work until enabled again (\`cactus worker enable ${JSON.stringify(worker.name)}\`).`);
  }
  return worker;
}
