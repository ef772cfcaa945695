import { expect } from "vitest";

/**
 * Signs in through the sign-in page's form, as a browser would (same-origin), and answers
 * the session cookie to send back (`cactus_session=…`).
 */
export async function signInWithCookie(
  baseUrl: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await fetch(`${baseUrl}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: baseUrl, ...headers },
    body: new URLSearchParams({ username, password }),
  });
  expect(response.status, await response.clone().text()).toBe(302);
  const cookie = /^(cactus_session=[^;]*)/.exec(response.headers.get("Set-Cookie") ?? "")?.[1];
  expect(cookie, "the sign-in answer sets the session cookie").toBeDefined();
  return cookie!;
}
