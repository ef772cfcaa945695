import type { Transaction } from "sequelize";
import { Account, User, type Role } from "../../db/models";
import { db } from "../lib/db.server";
import { hashPassword } from "../lib/secrets.server";

export class UsernameTakenError extends Error {
  constructor(username: string) {
    super(`The username "${username}" is taken; choose another.`);
  }
}

/** Creates a user with their credits account; the username is unique ignoring case. */
export async function createUser(
  input: { username: string; password: string; role?: Role },
  transaction?: Transaction,
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const run = async (t: Transaction) => {
    const taken = await User.findOne({
      where: db().where(db().fn("lower", db().col("username")), input.username.toLowerCase()),
      transaction: t,
    });
    if (taken) throw new UsernameTakenError(input.username);
    const user = await User.create(
      { username: input.username, passwordHash, role: input.role ?? "user" },
      { transaction: t },
    );
    await Account.create({ kind: "user", userId: user.id }, { transaction: t });
    return user;
  };
  return transaction ? run(transaction) : db().transaction(run);
}

export function findUserByUsername(username: string): Promise<User | null> {
  return User.findOne({ where: db().where(db().fn("lower", db().col("username")), username.toLowerCase()) });
}

export function countUsers(): Promise<number> {
  return User.count();
}
