import type { Transaction } from "sequelize";
import type { z } from "zod";
import type { apiTokenSchema, sessionTokenResponseSchema } from "../../contract";
import { ApiToken, type User } from "../../db/models";
import { iso } from "../lib/api.server";
import { hashSecret, newSecret } from "../lib/secrets.server";
import { toUserDto } from "./user.server";

export type ApiTokenDto = z.infer<typeof apiTokenSchema>;

/** A new API token; the plain token is returned this once, only its hash is stored. */
export async function createApiToken(
  input: { userId: number; name: string },
  transaction?: Transaction,
): Promise<{ token: ApiToken; secret: string }> {
  const secret = newSecret("cct");
  const token = await ApiToken.create(
    { userId: input.userId, name: input.name, tokenHash: hashSecret(secret) },
    { transaction },
  );
  return { token, secret };
}

/** What the API's login and sign-up answer: the user and a fresh token for the CLI. */
export async function openApiSession(
  user: User,
  tokenName = "cactus CLI",
): Promise<z.infer<typeof sessionTokenResponseSchema>> {
  const { token, secret } = await createApiToken({ userId: user.id, name: tokenName });
  return { user: await toUserDto(user), token: secret, tokenId: token.id };
}

/** The user's tokens, newest first, revoked ones included so they can see what was cut off. */
export function listApiTokens(userId: number): Promise<ApiToken[]> {
  return ApiToken.findAll({ where: { userId }, order: [["createdAt", "DESC"], ["id", "DESC"]] });
}

/** Revokes one of the user's tokens; false when they have no token with that id. */
export async function revokeApiToken({ id, userId }: { id: number; userId: number }): Promise<boolean> {
  const token = await ApiToken.findOne({ where: { id, userId } });
  if (!token) return false;
  if (!token.revokedAt) await token.update({ revokedAt: new Date() });
  return true;
}

export function toApiTokenDto(token: ApiToken): ApiTokenDto {
  return {
    id: token.id,
    name: token.name,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: iso(token.lastUsedAt),
    revokedAt: iso(token.revokedAt),
  };
}
