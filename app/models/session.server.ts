import { Op, type Transaction } from "sequelize";
import { Session, User, type SessionEndReason } from "../../db/models";
import { getRuntime } from "../lib/runtime.server";
import { hashSecret, newSecret } from "../lib/secrets.server";

// Browser sessions (decision 018): a row per sign-in, named by the hash of the random
// secret its cookie carries. A session is live until it is ended (sign-out, ended from
// another device, a password change), unused for CACTUS_SESSION_IDLE_HOURS, or
// CACTUS_SESSION_MAX_DAYS old, whichever comes first.

const HOUR = 3600_000;
// Writing last_seen_at on every request would make each page view a write; the idle
// limit is hours, so once a minute is precise enough.
const SEEN_RESOLUTION_MS = 60_000;

function limits() {
  const { CACTUS_SESSION_IDLE_HOURS, CACTUS_SESSION_MAX_DAYS } = getRuntime().config;
  return { idleMs: CACTUS_SESSION_IDLE_HOURS * HOUR, maxAgeMs: CACTUS_SESSION_MAX_DAYS * 24 * HOUR };
}

/** The absolute lifetime of a session, for the cookie's Max-Age. */
export function sessionMaxAgeSeconds(): number {
  return Math.floor(limits().maxAgeMs / 1000);
}

export interface LiveSession {
  session: Session;
  user: User;
}

/** A new session; the secret goes in the cookie, only its hash is stored. */
export async function openSession(input: { userId: number; userAgent: string | null; ip: string | null }): Promise<string> {
  const secret = newSecret("ccb");
  await Session.create({
    userId: input.userId,
    secretHash: hashSecret(secret),
    userAgent: input.userAgent?.slice(0, 512) ?? null,
    ip: input.ip?.slice(0, 64) ?? null,
    expiresAt: new Date(Date.now() + limits().maxAgeMs),
  });
  // Rows of sessions long over only fill the table: the user's list shows live ones.
  await Session.destroy({ where: { userId: input.userId, [Op.or]: [{ expiresAt: { [Op.lt]: new Date() } }, { revokedAt: { [Op.ne]: null } }] } });
  return secret;
}

/** The live session of this secret and its user, or null; notes that it was used. */
export async function findLiveSession(secret: string): Promise<LiveSession | null> {
  const session = await Session.findOne({ where: { secretHash: hashSecret(secret) } });
  if (!session || !isLive(session)) return null;
  const user = await User.findByPk(session.userId);
  if (!user) return null;
  if (Date.now() - session.lastSeenAt.getTime() > SEEN_RESOLUTION_MS) await session.update({ lastSeenAt: new Date() });
  return { session, user };
}

export function isLive(session: Session, now = Date.now()): boolean {
  return (
    session.revokedAt === null &&
    session.expiresAt.getTime() > now &&
    session.lastSeenAt.getTime() + limits().idleMs > now
  );
}

/** Whether the session is still live, for what runs long on one (an event stream). */
export async function isSessionLive(id: number): Promise<boolean> {
  const session = await Session.findByPk(id);
  return session !== null && isLive(session);
}

/** The user's live sessions, the most recently used first. */
export async function listLiveSessions(userId: number): Promise<Session[]> {
  const sessions = await Session.findAll({
    where: { userId, revokedAt: null, expiresAt: { [Op.gt]: new Date() } },
    order: [["lastSeenAt", "DESC"], ["id", "DESC"]],
  });
  return sessions.filter((session) => isLive(session));
}

/** Ends one of the user's sessions; false when they have no such live session. */
export async function endSession({ id, userId }: { id: number; userId: number }, why: SessionEndReason): Promise<boolean> {
  const [ended] = await Session.update({ revokedAt: new Date(), endedWhy: why }, { where: { id, userId, revokedAt: null } });
  return ended > 0;
}

/** Ends every session of the user but `exceptId` (the one asking); answers how many. */
export async function endOtherSessions(
  { userId, exceptId }: { userId: number; exceptId: number | null },
  why: SessionEndReason,
  transaction?: Transaction,
): Promise<number> {
  const [ended] = await Session.update(
    { revokedAt: new Date(), endedWhy: why },
    {
      where: { userId, revokedAt: null, expiresAt: { [Op.gt]: new Date() }, ...(exceptId === null ? {} : { id: { [Op.ne]: exceptId } }) },
      transaction,
    },
  );
  return ended;
}
