import { expect, test } from "vitest";
import { OFFLINE_AFTER_MS, workerStatusNow } from "./worker-status";

const now = new Date("2026-11-24T10:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

test("never seen, or silent for longer than two minutes, is offline whatever was stored", () => {
  expect(workerStatusNow({ status: "idle", lastSeenAt: null, holdsLease: false }, now)).toBe("offline");
  expect(workerStatusNow({ status: "rendering", lastSeenAt: ago(OFFLINE_AFTER_MS + 1), holdsLease: true }, now)).toBe("offline");
  expect(workerStatusNow({ status: "idle", lastSeenAt: ago(OFFLINE_AFTER_MS), holdsLease: false }, now)).toBe("idle");
});

test("seen recently: rendering while it holds a lease, else what it said (sleeping), else idle", () => {
  expect(workerStatusNow({ status: "idle", lastSeenAt: ago(1000), holdsLease: true }, now)).toBe("rendering");
  expect(workerStatusNow({ status: "sleeping", lastSeenAt: ago(1000), holdsLease: false }, now)).toBe("sleeping");
  expect(workerStatusNow({ status: "rendering", lastSeenAt: ago(1000), holdsLease: false }, now)).toBe("idle");
  expect(workerStatusNow({ status: "offline", lastSeenAt: ago(1000), holdsLease: false }, now)).toBe("idle");
});
