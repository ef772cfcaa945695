import type { AppLoadContext } from "@remix-run/node";
import "./context";
import { getRuntime } from "./runtime.server";

export interface RateRule {
  /** Attempts allowed inside one window. */
  limit: number;
  windowMs: number;
}

// Enough keys for a busy farm; beyond it the oldest keys go, so a flood of made-up
// usernames cannot grow the server's memory without bound.
const MAX_KEYS = 50_000;
const SWEEP_EVERY = 1_000;

/**
 * A sliding-window counter per key, in this process's memory. Each replica counts on
 * its own, so N replicas allow up to N × limit — still enough to stop password guessing.
 */
export class RateLimiter {
  private readonly attempts = new Map<string, number[]>();
  private sinceSweep = 0;

  constructor(
    readonly rule: RateRule,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whole seconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const times = this.recent(key);
    if (times.length < this.rule.limit) return 0;
    const freedAt = times[times.length - this.rule.limit] + this.rule.windowMs;
    return Math.max(1, Math.ceil((freedAt - this.now()) / 1000));
  }

  hit(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.attempts.delete(key);
    this.attempts.set(key, times);
    if (this.attempts.size > MAX_KEYS) this.attempts.delete(this.attempts.keys().next().value as string);
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep();
  }

  reset(key: string): void {
    this.attempts.delete(key);
  }

  /** How many keys are remembered (for tests of the memory bound). */
  get size(): number {
    return this.attempts.size;
  }

  private recent(key: string): number[] {
    const since = this.now() - this.rule.windowMs;
    return (this.attempts.get(key) ?? []).filter((time) => time > since);
  }

  private sweep(): void {
    this.sinceSweep = 0;
    for (const key of [...this.attempts.keys()]) {
      const times = this.recent(key);
      if (times.length === 0) this.attempts.delete(key);
      else this.attempts.set(key, times);
    }
  }
}

const MINUTE = 60_000;

/** Failed sign-ins per (address, username), then per address over all usernames. */
export const loginFailuresPerUser = new RateLimiter({ limit: 10, windowMs: 15 * MINUTE });
export const loginFailuresPerIp = new RateLimiter({ limit: 30, windowMs: 15 * MINUTE });
/** Sign-up and setup attempts per address: each costs a password hash. */
export const signupsPerIp = new RateLimiter({ limit: 10, windowMs: 60 * MINUTE });

/** The client's address: the first X-Forwarded-For hop only when CACTUS_TRUST_PROXY=1. */
export function clientIp(request: Request, context: AppLoadContext): string {
  if (getRuntime().config.CACTUS_TRUST_PROXY) {
    const first = request.headers.get("X-Forwarded-For")?.split(",")[0]?.trim();
    if (first) return first;
  }
  return context.clientIp ?? "unknown";
}

const userKey = (ip: string, username: string) => `${ip}\n${username.trim().toLowerCase()}`;

/** Seconds the client must wait before trying to sign in as `username`; 0 = go ahead. */
export function loginRetryAfter(ip: string, username: string): number {
  return Math.max(loginFailuresPerUser.retryAfter(userKey(ip, username)), loginFailuresPerIp.retryAfter(ip));
}

export function noteLoginFailure(ip: string, username: string): void {
  loginFailuresPerUser.hit(userKey(ip, username));
  loginFailuresPerIp.hit(ip);
}

export function noteLoginSuccess(ip: string, username: string): void {
  loginFailuresPerUser.reset(userKey(ip, username));
}

/** Counts a sign-up (or setup) attempt; answers the seconds to wait when over the limit. */
export function takeSignupAttempt(ip: string): number {
  const wait = signupsPerIp.retryAfter(ip);
  if (wait === 0) signupsPerIp.hit(ip);
  return wait;
}

export function tooManyAttemptsMessage(retryAfterSeconds: number): string {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Too many attempts from your address; try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}
