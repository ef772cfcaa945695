import type { User } from "../../db/models";
import { authenticate, changePassword } from "../models/user.server";
import { Problem } from "./problem.server";
import { loginRetryAfter, noteLoginFailure, noteLoginSuccess, tooManyAttemptsMessage } from "./rate-limit.server";

export type SignInResult =
  | { ok: true; user: User }
  | { ok: false; code: "rate_limited"; message: string; retryAfter: number }
  | { ok: false; code: "unauthorized"; message: string };

/**
 * A password check under the sign-in rate limits, shared by the API's login and the
 * sign-in page so both count the same failures against the same address.
 */
export async function signIn(input: { ip: string; username: string; password: string }): Promise<SignInResult> {
  const wait = loginRetryAfter(input.ip, input.username);
  if (wait > 0) return { ok: false, code: "rate_limited", message: tooManyAttemptsMessage(wait), retryAfter: wait };
  const user = await authenticate(input.username, input.password);
  if (!user) {
    noteLoginFailure(input.ip, input.username);
    return { ok: false, code: "unauthorized", message: "Wrong username or password; check both and try again." };
  }
  noteLoginSuccess(input.ip, input.username);
  return { ok: true, user };
}

/**
 * A password change under the same limits as signing in: a wrong current password counts
 * as a failed sign-in of that user from that address, so a stolen session cannot guess it.
 */
export async function changePasswordLimited(input: {
  ip: string;
  user: User;
  current: string;
  next: string;
  keepSessionId: number | null;
}): Promise<{ endedSessions: number }> {
  const wait = loginRetryAfter(input.ip, input.user.username);
  if (wait > 0) throw new Problem("rate_limited", tooManyAttemptsMessage(wait));
  try {
    return await changePassword(input);
  } catch (error) {
    if (error instanceof Problem && error.code === "forbidden") noteLoginFailure(input.ip, input.user.username);
    throw error;
  }
}
