import { describe, expect, test } from "vitest";
import {
  isNotificationEvent,
  notificationOptions,
  NOTIFICATION_EVENT_LABELS,
  NOTIFICATION_EVENTS,
  RENDER_NOTICE_AUDIENCE,
  RENDER_NOTICE_EVENTS,
  renderMessage,
  workerFailingMessage,
  workerOfflineMessage,
} from "./notifications";
import { RENDER_EVENTS, RENDER_STATUSES, transition, type RenderNotice } from "./render-lifecycle";

const render = { id: 42, filename: "spring.blend", framesDone: 1, totalFrames: 250 };

/** Every notice the lifecycle table can give, found by trying each event in each status. */
function lifecycleNotices(): Set<RenderNotice> {
  const notices = new Set<RenderNotice>();
  for (const status of [null, ...RENDER_STATUSES]) {
    for (const event of RENDER_EVENTS) {
      const notice = transition(status, event, { started: true })?.notice;
      if (notice) notices.add(notice);
    }
  }
  return notices;
}

describe("render notices", () => {
  test("every notice of the lifecycle table is an event a person can switch on Me", () => {
    const notices = lifecycleNotices();
    expect(notices.size).toBeGreaterThan(0);
    for (const notice of notices) {
      const event = RENDER_NOTICE_EVENTS[notice];
      expect(NOTIFICATION_EVENTS).toContain(event);
      // In the words of the person it is for: "My render…", or "…awaits my acceptance".
      expect(NOTIFICATION_EVENT_LABELS[event]).toMatch(RENDER_NOTICE_AUDIENCE[notice] === "owner" ? /^My / : / my /);
    }
    expect(notices).toContain("request-awaits");
  });

  test("a request is for the people asked, the rest for the render's owner", () => {
    expect(Object.entries(RENDER_NOTICE_AUDIENCE).filter(([, audience]) => audience === "asked")).toEqual([["request-awaits", "asked"]]);
  });

  test("request-awaits: who asks, what and at what price, a link to Requests under one tag per request", () => {
    expect(renderMessage("request-awaits", { ...render, owner: "ada", price: 1.5 })).toEqual({
      event: "request-awaits",
      title: "ada asks for your workers",
      body: "spring.blend, 250 frames at 1.50 credits per WU: accept or decline it on Requests.",
      url: "/requests",
      tag: "request-42",
    });
  });

  test.each([
    ["render-finished", "Render 42 is done", "spring.blend: 1 frame ready to download."],
    ["render-failed", "Render 42 failed", "spring.blend: Blender quit: out of memory"],
    ["needs-credits", "Render 42 needs credits", "spring.blend stopped after 1 frame: top up or lower its price to go on."],
    ["quote-ready", "Render 42: the quote is ready", "spring.blend, 250 frames: confirm it to start rendering."],
  ] as const)("%s: its words, and a link to the render's page under one tag per render", (notice, title, body) => {
    const message = renderMessage(notice, { ...render, error: "Blender quit: out of memory" });
    expect(message).toEqual({ event: RENDER_NOTICE_EVENTS[notice], title, body, url: "/renders/42", tag: "render-42" });
  });

  test("counts read as people say them", () => {
    expect(renderMessage("render-finished", { ...render, framesDone: 10_000 }).body).toBe("spring.blend: 10,000 frames ready to download.");
  });

  test("a failure without a reason points to the page; a long reason is cut short", () => {
    expect(renderMessage("render-failed", { ...render, error: null }).body).toBe("spring.blend: its page says why.");
    const long = renderMessage("render-failed", { ...render, error: "x".repeat(5000) }).body;
    expect(long.length).toBeLessThanOrEqual("spring.blend: ".length + 140);
    expect(long.endsWith("…")).toBe(true);
  });
});

describe("worker notices", () => {
  test("gone offline: how long it has been silent, what to check, a link to Workers", () => {
    expect(workerOfflineMessage({ id: 7, name: "studio-pc" }, { minutes: 2 })).toEqual({
      event: "worker-offline",
      title: "studio-pc went offline",
      body: "Its agent has not called for 2 minutes; check the machine, its network and `cactus-agent doctor`.",
      url: "/workers",
      tag: "worker-7",
    });
  });

  test("keeps failing: how many in a row and the last error, cut short", () => {
    const message = workerFailingMessage({ id: 7, name: "studio-pc" }, { failures: 3, error: `GPU error ${"y".repeat(400)}` });
    expect(message.title).toBe("studio-pc keeps failing");
    expect(message.body).toMatch(/^3 tasks failed in a row; the last error: GPU error y+…$/);
    expect(message.body.length).toBeLessThan(200);
    expect(message.tag).toBe("worker-7");
  });
});

test("the service worker shows a message with its body, the app's icon, its tag, and the link to open", () => {
  const message = workerOfflineMessage({ id: 7, name: "studio-pc" }, { minutes: 2 });
  expect(notificationOptions(message)).toEqual({
    body: message.body,
    icon: "/icons/icon-192.png",
    tag: "worker-7",
    renotify: true,
    data: { url: "/workers", event: "worker-offline" },
  });
});

test("isNotificationEvent knows the list and nothing else", () => {
  for (const event of NOTIFICATION_EVENTS) expect(isNotificationEvent(event)).toBe(true);
  for (const other of ["", "render-done", null, 3, "RENDER-FINISHED"]) expect(isNotificationEvent(other)).toBe(false);
});
