import { expect, test } from "vitest";
import { RateLimiter } from "./rate-limit.server";

function limiterAt(start = 1_000_000) {
  const clock = { now: start };
  const limiter = new RateLimiter({ limit: 3, windowMs: 60_000 }, () => clock.now);
  return { clock, limiter };
}

test("allows `limit` attempts in a window, then says how long to wait", () => {
  const { clock, limiter } = limiterAt();
  for (let i = 0; i < 3; i++) {
    expect(limiter.retryAfter("a")).toBe(0);
    limiter.hit("a");
    clock.now += 10_000;
  }
  // Attempts at 0 s, 10 s and 20 s; it is now 30 s, the first one leaves the window at 60 s.
  expect(limiter.retryAfter("a")).toBe(30);
  expect(limiter.retryAfter("b")).toBe(0);
});

test("the window slides: old attempts stop counting one by one", () => {
  const { clock, limiter } = limiterAt();
  limiter.hit("a");
  clock.now += 30_000;
  limiter.hit("a");
  limiter.hit("a");
  expect(limiter.retryAfter("a")).toBe(30);
  clock.now += 30_001;
  expect(limiter.retryAfter("a")).toBe(0);
  limiter.hit("a");
  // The two attempts at 30 s and the one now: blocked until the 30 s ones age out.
  expect(limiter.retryAfter("a")).toBe(30);
});

test("a wait of less than a second still reads as one second", () => {
  const { clock, limiter } = limiterAt();
  for (let i = 0; i < 3; i++) limiter.hit("a");
  clock.now += 59_900;
  expect(limiter.retryAfter("a")).toBe(1);
});

test("reset forgets a key", () => {
  const { limiter } = limiterAt();
  for (let i = 0; i < 3; i++) limiter.hit("a");
  limiter.reset("a");
  expect(limiter.retryAfter("a")).toBe(0);
});

test("keys whose attempts all aged out are swept, so memory stays bounded", () => {
  const { clock, limiter } = limiterAt();
  for (let i = 0; i < 999; i++) limiter.hit(`key-${i}`);
  expect(limiter.size).toBe(999);
  clock.now += 61_000;
  limiter.hit("fresh");
  expect(limiter.size).toBe(1);
});
