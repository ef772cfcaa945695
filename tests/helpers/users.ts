import type { Sequelize } from "sequelize";
import { ApiToken, type Role, type User } from "../../db/models";
import { connectDatabase } from "../../app/lib/db.server";
import { hashSecret, newSecret } from "../../app/lib/secrets.server";
import { createUser } from "../../app/models/user.server";
import type { TestServer } from "./server";

let connection: Sequelize | undefined;

/**
 * The test's own connection to the server's database, for arranging data that has no
 * API of its own yet and for checking what was (not) stored.
 */
export function testDatabase(server: Pick<TestServer, "databaseUrl">): Sequelize {
  connection ??= connectDatabase(server.databaseUrl);
  return connection;
}

export async function closeTestDatabase(): Promise<void> {
  await connection?.close();
  connection = undefined;
}

/** A user straight in the database, with an API token for the API calls of a test. */
export async function createUserWithToken(
  server: Pick<TestServer, "databaseUrl">,
  username: string,
  role: Role = "user",
): Promise<{ user: User; token: string; password: string }> {
  testDatabase(server);
  const password = `${username}-password-123`;
  const user = await createUser({ username, password, role });
  const token = newSecret("cct");
  await ApiToken.create({ userId: user.id, name: "test", tokenHash: hashSecret(token) });
  return { user, token, password };
}

/** Grants a user credits from the farm's account, as an admin would (`cactus credits grant`). */
export async function grantCredits(server: Pick<TestServer, "databaseUrl">, userId: number, credits: number): Promise<void> {
  const sequelize = testDatabase(server);
  const { grant } = await import("../../db/sql/ledger");
  await sequelize.transaction((transaction) => grant(sequelize, userId, Math.round(credits * 1000), transaction));
}
