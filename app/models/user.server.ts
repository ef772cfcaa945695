import { UniqueConstraintError, type Transaction } from "sequelize";
import type { UserDto } from "../../contract";
import { Account, Setting, User, type Role } from "../../db/models";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { hashPassword, hashSecret, verifyPassword } from "../lib/secrets.server";
import { endOtherSessions } from "./session.server";

export class UsernameTakenError extends Problem {
  constructor(username: string) {
    super("conflict", `The username "${username}" is taken; choose another.`);
  }
}

const byUsername = (username: string) => db().where(db().fn("lower", db().col("username")), username.toLowerCase());

/** Creates a user with their credits account; the username is unique ignoring case. */
export async function createUser(
  input: { username: string; password: string; role?: Role },
  transaction?: Transaction,
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const run = async (t: Transaction) => {
    const taken = await User.findOne({ where: byUsername(input.username), transaction: t });
    if (taken) throw new UsernameTakenError(input.username);
    let user: User;
    try {
      user = await User.create({ username: input.username, passwordHash, role: input.role ?? "user" }, { transaction: t });
    } catch (error) {
      // Two sign-ups for the same name at once: the unique index decides.
      if (error instanceof UniqueConstraintError) throw new UsernameTakenError(input.username);
      throw error;
    }
    await Account.create({ kind: "user", userId: user.id }, { transaction: t });
    return user;
  };
  return transaction ? run(transaction) : db().transaction(run);
}

export function findUserByUsername(username: string): Promise<User | null> {
  return User.findOne({ where: byUsername(username) });
}

export function countUsers(): Promise<number> {
  return User.count();
}

let decoyHash: Promise<string> | undefined;

/**
 * The user whose password this is, or null. An unknown username costs the same scrypt
 * work as a wrong password, so response times do not tell which usernames exist.
 */
export async function authenticate(username: string, password: string): Promise<User | null> {
  const user = await findUserByUsername(username);
  if (!user) {
    decoyHash ??= hashPassword("not anyone's password");
    await verifyPassword(password, await decoyHash);
    return null;
  }
  return (await verifyPassword(password, user.passwordHash)) ? user : null;
}

/** The user as the API shows them, with their credits balance. */
export async function toUserDto(user: User): Promise<UserDto> {
  const account = await Account.findOne({ where: { kind: "user", userId: user.id } });
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    credits: (account?.balanceMilli ?? 0) / 1000,
    createdAt: user.createdAt.toISOString(),
  };
}

// Written by ensureFirstAdmin in lib/boot.server.ts.
const SETUP_CODE_KEY = "setup_code_hash";

/**
 * Creates the first admin with the setup code printed at boot. One transaction locks the
 * stored code, so two people racing with it cannot both become admin; the code is then
 * gone for good.
 */
export async function createFirstAdmin(input: { code: string; username: string; password: string }): Promise<User> {
  return db().transaction(async (transaction) => {
    const stored = await Setting.findByPk(SETUP_CODE_KEY, { transaction, lock: transaction.LOCK.UPDATE });
    if (!stored || stored.value !== hashSecret(input.code)) {
      throw new Problem("forbidden", "This setup code is not valid; use the one the server printed at its last start.");
    }
    if ((await User.count({ transaction })) > 0) {
      throw new Problem("conflict", "Cactus already has an admin; sign in instead.");
    }
    const user = await createUser({ username: input.username, password: input.password, role: "admin" }, transaction);
    await stored.destroy({ transaction });
    return user;
  });
}

/**
 * Changes a user's password when `current` is theirs, and ends every other browser
 * session (the one asking, if it is one, stays signed in): whoever knew the old password
 * is signed out everywhere. API tokens are not passwords and stay; the user revokes them.
 * Answers how many sessions ended.
 */
export async function changePassword(input: {
  user: User;
  current: string;
  next: string;
  keepSessionId: number | null;
}): Promise<{ endedSessions: number }> {
  if (!(await verifyPassword(input.current, input.user.passwordHash))) {
    throw new Problem("forbidden", "The current password is not right; type it again (or sign out and back in if you forgot it).");
  }
  if (input.current === input.next) throw new Problem("bad_request", "The new password is the same as the current one; choose another.");
  const passwordHash = await hashPassword(input.next);
  return db().transaction(async (transaction) => {
    await User.update({ passwordHash }, { where: { id: input.user.id }, transaction });
    const endedSessions = await endOtherSessions({ userId: input.user.id, exceptId: input.keepSessionId }, "password-changed", transaction);
    return { endedSessions };
  });
}
