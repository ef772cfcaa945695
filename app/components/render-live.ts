import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { FrameDto, RenderDto, RenderEstimateDto, RenderWorkersDto } from "../../contract";
import { isRenderFinished } from "../../domain/render-lifecycle";

// Renders as they are now, kept current by the server's event streams
// (/api/v1/renders/:id/events, /api/v1/renders/events), which send what changed. While a
// stream is down (the network went away, a proxy cuts it) the page says it is
// reconnecting, reloads its data on an interval, and picks the stream up again by itself.

/** How often the page reloads its data while its event stream is down. */
const FALLBACK_RELOAD_MS = 8000;
/** A stream the browser gave up on (an error answer) is opened again after this. */
const REOPEN_MS = 5000;

export type Connection = "live" | "reconnecting" | "off";

function subscribeToVisibility(onChange: () => void) {
  document.addEventListener("visibilitychange", onChange);
  return () => document.removeEventListener("visibilitychange", onChange);
}

/** False while the tab is in the background: a phone then keeps no stream open for nothing. */
function usePageVisible(): boolean {
  return useSyncExternalStore(
    subscribeToVisibility,
    () => document.visibilityState === "visible",
    () => true,
  );
}

/**
 * Keeps an EventSource on `url` open while `active`, handing its events to `on`; says
 * whether it is live, and reloads the page's data while it is not.
 */
function useEventStream(url: string, active: boolean, on: Record<string, (data: unknown) => void>): Connection {
  const [connection, setConnection] = useState<Connection>("off");
  const handlers = useRef(on);
  const { revalidate } = useRevalidator();
  const reload = useRef(revalidate);
  useEffect(() => {
    handlers.current = on;
    reload.current = revalidate;
  });
  useEffect(() => {
    if (!active) return;
    let timer: number | undefined;
    let reopen: number | undefined;
    let source: EventSource | undefined;
    let closed = false;
    const reloadOnInterval = () => {
      setConnection("reconnecting");
      timer ??= window.setInterval(() => reload.current(), FALLBACK_RELOAD_MS);
    };
    if (typeof EventSource === "undefined") {
      reloadOnInterval();
      return () => window.clearInterval(timer);
    }
    const open = () => {
      source = new EventSource(url);
      source.addEventListener("open", () => {
        window.clearInterval(timer);
        timer = undefined;
        setConnection("live");
      });
      for (const name of Object.keys(handlers.current)) {
        source.addEventListener(name, (event) => {
          setConnection("live");
          handlers.current[name]?.(JSON.parse((event as MessageEvent<string>).data));
        });
      }
      source.addEventListener("error", () => {
        reloadOnInterval();
        // A network error leaves it reconnecting by itself; an error answer closes it for good.
        if (source?.readyState === EventSource.CLOSED && !closed) {
          window.clearTimeout(reopen);
          reopen = window.setTimeout(open, REOPEN_MS);
        }
      });
    };
    open();
    return () => {
      closed = true;
      source?.close();
      window.clearInterval(timer);
      window.clearTimeout(reopen);
    };
    // The handlers' names are fixed per caller.
  }, [url, active]);
  return active ? connection : "off";
}

/** Prefer what arrived later: the loader's data wins when it is reloaded. */
function useLoaded<T>(loaded: T): [T, (update: (current: T) => T) => void] {
  const [state, setState] = useState({ loaded, current: loaded });
  let current = state.current;
  if (state.loaded !== loaded) {
    current = loaded;
    setState({ loaded, current: loaded });
  }
  return [current, (update) => setState((previous) => ({ ...previous, current: update(previous.current) }))];
}

export interface LiveRender {
  render: RenderDto;
  /** The page of frames shown, with the changes the stream sent. */
  frames: FrameDto[];
  connection: Connection;
}

/**
 * A render (the loader's) and the frames of the page shown (`window`: "A-B"), updated by
 * its events until it is finished.
 */
export function useLiveRender(loaded: RenderDto, loadedFrames: FrameDto[], window: string): LiveRender {
  const [render, setRender] = useLoaded(loaded);
  const [frames, setFrames] = useLoaded(loadedFrames);
  const visible = usePageVisible();
  const active = visible && !isRenderFinished(render.status);
  const url = `/api/v1/renders/${loaded.id}/events?frames=${encodeURIComponent(window)}`;
  const connection = useEventStream(url, active, {
    render: (data) => setRender(() => data as RenderDto),
    frames: (data) => {
      // New frames too: a confirmed quote queues the frames that were not sampled.
      const changed = (data as { frames: FrameDto[] }).frames;
      setFrames((current) => {
        const byFrame = new Map(current.map((frame) => [frame.frame, frame]));
        for (const frame of changed) byFrame.set(frame.frame, frame);
        return [...byFrame.values()].sort((a, b) => a.frame - b.frame);
      });
    },
  });
  return { render, frames, connection };
}

/**
 * What a render's page loaded with `loaded` (the loader's), fetched again from `url` (an
 * API read the session may make) each time `key` changes: the render's event carries
 * summaries, not the whole of these.
 */
function useRefetched<T>(url: string, key: string, loaded: T): T {
  const [fetched, setFetched] = useState<T>();
  // Prefer what arrived later: a new answer, or the loader's data when it is reloaded.
  const [shown, setShown] = useState({ loaded, fetched, current: loaded });
  let current = shown.current;
  if (shown.loaded !== loaded || shown.fetched !== fetched) {
    current = shown.loaded !== loaded ? loaded : (fetched ?? loaded);
    setShown({ loaded, fetched, current });
  }
  const seen = useRef(key);
  useEffect(() => {
    if (seen.current === key) return;
    seen.current = key;
    // A newer change cancels the answer to an older one.
    const controller = new AbortController();
    fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
      .then(async (response) => (response.ok ? setFetched((await response.json()) as T) : undefined))
      // The next change tries again; until then the page shows what it had.
      .catch(() => undefined);
    return () => controller.abort();
  }, [key, url]);
  return current;
}

/**
 * A render's estimate with its curve (the loader's), loaded again when the render's event
 * says it was made again (after each accepted frame) or its status changed: the event
 * carries the summary, not the curve, which for a long render is 200 points.
 */
export function useLiveEstimate(render: RenderDto, loaded: RenderEstimateDto): RenderEstimateDto {
  return useRefetched(`/api/v1/renders/${render.id}/estimate`, `${render.status}|${render.estimate?.updatedAt ?? ""}`, loaded);
}

/**
 * The workers on a render with their owners' and the render owner's switches (the
 * loader's), loaded again when a worker joins it or a frame of it is done.
 */
export function useLiveRenderWorkers(render: RenderDto, loaded: RenderWorkersDto): RenderWorkersDto {
  const frames = render.workers.map((worker) => `${worker.id}:${worker.framesDone}`).join(",");
  return useRefetched(`/api/v1/renders/${render.id}/workers`, `${render.status}|${frames}`, loaded);
}

/** The user's renders (the loader's), each updated by the list's event stream; new ones on top. */
export function useLiveRenders(loaded: RenderDto[]): { renders: RenderDto[]; connection: Connection } {
  const [renders, setRenders] = useLoaded(loaded);
  const visible = usePageVisible();
  const connection = useEventStream("/api/v1/renders/events", visible, {
    render: (data) => {
      const render = data as RenderDto;
      setRenders((current) =>
        current.some((known) => known.id === render.id)
          ? current.map((known) => (known.id === render.id ? render : known))
          : [render, ...current],
      );
    },
  });
  return { renders, connection };
}
