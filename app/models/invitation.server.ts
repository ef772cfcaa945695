import { Op } from "sequelize";
import type { z } from "zod";
import type { invitationSchema } from "../../contract";
import { Invitation, User } from "../../db/models";
import { iso } from "../lib/api.server";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { getRuntime } from "../lib/runtime.server";
import { hashSecret, newSecret } from "../lib/secrets.server";
import { toCredits } from "../../domain/ledger";
import { grantCredits, toMilli } from "./ledger.server";
import { createUser } from "./user.server";

export type InvitationDto = z.infer<typeof invitationSchema>;
export type InvitationStatus = "pending" | "used" | "expired";

/** The farm's starting credits now (CACTUS_STARTING_CREDITS), in milli-credits. */
const startingMilli = () => toMilli(getRuntime().config.CACTUS_STARTING_CREDITS);

/**
 * A one-time invitation code (returned this once; only its hash is stored). It grants the
 * farm's starting credits as they are now: what it says it grants is what it grants,
 * even if the setting changes before it is redeemed.
 */
export async function createInvitation(input: {
  fromUserId: number;
  email: string;
}): Promise<{ invitation: Invitation; code: string }> {
  const code = newSecret("cci");
  const ttlMs = getRuntime().config.CACTUS_INVITATION_TTL_HOURS * 3600_000;
  const invitation = await Invitation.create({
    fromUserId: input.fromUserId,
    email: input.email,
    codeHash: hashSecret(code),
    expiresAt: new Date(Date.now() + ttlMs),
    creditsMilli: startingMilli(),
  });
  return { invitation, code };
}

/** The credits an invitation grants: its own; one made before invitations kept theirs grants the farm's setting. */
const grantedMilli = (invitation: Invitation) => (invitation.creditsMilli === null ? startingMilli() : Number(invitation.creditsMilli));

/** The invitations a user sent, newest first, with who redeemed them. */
export async function listInvitations(userId: number): Promise<InvitationDto[]> {
  const invitations = await Invitation.findAll({
    where: { fromUserId: userId },
    order: [["createdAt", "DESC"], ["id", "DESC"]],
  });
  const usedByIds = invitations.map((invitation) => invitation.usedByUserId).filter((id) => id !== null);
  const users = usedByIds.length > 0 ? await User.findAll({ where: { id: { [Op.in]: usedByIds } } }) : [];
  const usernames = new Map(users.map((user) => [user.id, user.username]));
  return invitations.map((invitation) =>
    toInvitationDto(invitation, invitation.usedByUserId ? (usernames.get(invitation.usedByUserId) ?? null) : null),
  );
}

export function toInvitationDto(invitation: Invitation, usedBy: string | null = null): InvitationDto {
  return {
    id: invitation.id,
    email: invitation.email,
    expiresAt: invitation.expiresAt.toISOString(),
    usedAt: iso(invitation.usedAt),
    usedBy,
    credits: toCredits(grantedMilli(invitation)),
    createdAt: invitation.createdAt.toISOString(),
  };
}

export function invitationStatus(invitation: Pick<InvitationDto, "usedAt" | "expiresAt">, now = new Date()): InvitationStatus {
  if (invitation.usedAt) return "used";
  return new Date(invitation.expiresAt) <= now ? "expired" : "pending";
}

const noSuchInvitation = () =>
  new Problem("not_found", "No invitation has this code; check the link, or ask for a new invitation.");

/** Why this invitation cannot be redeemed (now), or null when it can. */
function invitationRefusal(invitation: Invitation): Problem | null {
  if (invitation.usedAt) {
    return new Problem("conflict", "This invitation was already used; ask whoever invited you for a new one.");
  }
  if (invitation.expiresAt <= new Date()) {
    return new Problem("conflict", "This invitation has expired; ask whoever invited you for a new one.");
  }
  return null;
}

/**
 * For the sign-up page: tells at once whether the link still works, before anyone fills
 * in the form, and the credits it comes with.
 */
export async function checkInvitationCode(code: string): Promise<{ refusal: Problem | null; credits: number | null }> {
  const invitation = await Invitation.findOne({ where: { codeHash: hashSecret(code.trim()) } });
  if (!invitation) return { refusal: noSuchInvitation(), credits: null };
  return { refusal: invitationRefusal(invitation), credits: toCredits(grantedMilli(invitation)) };
}

/**
 * Redeems an invitation: one transaction locks it, checks it is unused and unexpired,
 * creates the user, marks it used and grants the credits it says — so a code works
 * exactly once and a refused sign-up leaves no row behind.
 */
export async function redeemInvitation(input: { code: string; username: string; password: string }): Promise<User> {
  return db().transaction(async (transaction) => {
    const invitation = await Invitation.findOne({
      where: { codeHash: hashSecret(input.code.trim()) },
      transaction,
      lock: transaction.LOCK.UPDATE,
    });
    if (!invitation) throw noSuchInvitation();
    const refusal = invitationRefusal(invitation);
    if (refusal) throw refusal;
    const user = await createUser({ username: input.username, password: input.password }, transaction);
    await invitation.update({ usedByUserId: user.id, usedAt: new Date() }, { transaction });
    await grantCredits({ userId: user.id, amountMilli: grantedMilli(invitation) }, transaction);
    return user;
  });
}

/** The sign-up link for a code, on the server's public origin (lib/runtime.server.ts publicOrigin). */
export function signupUrl(origin: string, code: string): string {
  return `${origin}/signup?${new URLSearchParams({ code })}`;
}
