import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

// One of OWASP's equivalent scrypt settings (N=2^14, r=8, p=5): the same work as their
// 2^17 baseline in 16 MiB instead of 128, so a sign-in does not balloon the server's memory.
const SCRYPT = { N: 2 ** 14, r: 8, p: 5, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/** `scrypt$N$r$p$salt$key`, so the parameters can be raised later without a migration. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password.normalize("NFKC"), salt, KEY_LENGTH, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), key.toString("base64")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await scryptAsync(password.normalize("NFKC"), Buffer.from(salt, "base64"), expected.length, {
    N: Number(N),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/**
 * A random secret with a prefix saying what it is (`cct_` API token, `ccw_` worker
 * token, `cci_` invitation, `ccs_` setup code, `ccb_` browser session), so a leaked one is easy to recognise.
 */
export function newSecret(prefix: "cct" | "ccw" | "cci" | "ccs" | "ccb"): string {
  return `${prefix}_${randomBytes(24).toString("base64url")}`;
}

/** Secrets are random and long, so a fast hash is enough to store them safely. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
