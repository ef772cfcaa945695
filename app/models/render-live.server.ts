import { QueryTypes } from "sequelize";
import type { FrameDto, RenderDto } from "../../contract";
import type { FrameRange } from "../../domain/frames";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { db } from "../lib/db.server";
import { RENDER_ACTIVITY_CHANNEL, RENDER_EVENTS_CHANNEL, type Channel } from "../lib/db-events.server";
import { isRenderActivity } from "../lib/render-activity.server";
import { SentState, type LiveSource, type StreamEvent } from "../lib/sse.server";
import { listFrames } from "./render-frames.server";
import { listRendersById, requireRender } from "./render.server";

// What the live pages' event streams send (app/lib/sse.server.ts): a render's summary and
// the frames of the page shown, or the renders of the list, each only when it changed.

const renderIdOf = (payload: unknown) => (payload as { renderId?: unknown } | null)?.renderId;

/** Whether a notification is about render `id` of `userId`. */
function concernsRender(channel: Channel, payload: unknown, id: number, userId: number): boolean {
  if (channel === RENDER_EVENTS_CHANNEL) return renderIdOf(payload) === id;
  return isRenderActivity(payload) && (payload.renders.includes(id) || payload.users.includes(userId));
}

/**
 * One render: `render` (its JSON, as GET /renders/:id) when it changed, and with a
 * `window` (the page of frames shown) `frames` with those of its frames that changed.
 * Ends once the render finished.
 */
export function renderStream({ id, userId, window }: { id: number; userId: number; window?: FrameRange }): LiveSource {
  const sentRender = new SentState<RenderDto>();
  const sentFrames = new SentState<FrameDto>();
  return {
    channels: [RENDER_EVENTS_CHANNEL, RENDER_ACTIVITY_CHANNEL],
    concerns: (channel, payload) => concernsRender(channel, payload, id, userId),
    async next() {
      const render = await requireRender({ id, userId }).catch(() => null);
      if (!render) return null;
      const events: StreamEvent[] = [];
      // Frames first: a page stops listening once the render it hears of is finished.
      if (window) {
        const frames = sentFrames.changed((await listFrames({ id, userId, window })).map((frame) => [frame.frame, frame]));
        if (frames.length > 0) events.push({ event: "frames", data: { frames } });
      }
      events.push(...sentRender.changed([[id, render]]).map((data) => ({ event: "render", data })));
      return { events, last: isRenderFinished(render.status) };
    },
  };
}

/**
 * The user's renders: `render` for each one that changed (a new one too), from the
 * notifications that name it or its owner. Sends the unfinished ones at the start.
 */
export function renderListStream({ userId }: { userId: number }): LiveSource {
  const sent = new SentState<RenderDto>();
  const mine = new Set<number>();
  const others = new Set<number>();
  let dirty = new Set<number>();
  let everything = true;
  const isMine = async (id: number) => {
    if (mine.has(id)) return true;
    if (others.has(id)) return false;
    const [row] = await db().query<{ created_by: number }>(`SELECT created_by FROM renders WHERE id = :id`, {
      replacements: { id },
      type: QueryTypes.SELECT,
    });
    (row?.created_by === userId ? mine : others).add(id);
    return row?.created_by === userId;
  };
  return {
    channels: [RENDER_EVENTS_CHANNEL, RENDER_ACTIVITY_CHANNEL],
    async concerns(channel, payload) {
      if (channel === RENDER_EVENTS_CHANNEL) {
        const id = renderIdOf(payload);
        if (typeof id !== "number" || !(await isMine(id))) return false;
        dirty.add(id);
        return true;
      }
      if (!isRenderActivity(payload)) return false;
      if (payload.users.includes(userId)) everything = true;
      for (const id of payload.renders) if (mine.has(id)) dirty.add(id);
      return everything || dirty.size > 0;
    },
    async next() {
      const ids = [...dirty];
      dirty = new Set();
      const all = everything;
      everything = false;
      const renders = await listRendersById(userId, all ? { unfinished: true } : { ids });
      for (const render of renders) mine.add(render.id);
      const changed = sent.changed(renders.map((render) => [render.id, render]));
      return { events: changed.map((data) => ({ event: "render", data })), last: false };
    },
  };
}
