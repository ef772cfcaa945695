import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { RenderDto } from "../../contract";
import { isRenderFinished } from "../../domain/render-lifecycle";

// A render as it is now, kept current by its event stream (/api/v1/renders/:id/events,
// which sends the render's JSON on every change). When the stream cannot be had (no
// EventSource, a proxy that cuts it), the page's data is reloaded on an interval instead.

/** How often the page reloads its data while the event stream is down. */
const FALLBACK_RELOAD_MS = 8000;

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

/** What the page's other data (frames, workers, failures) depends on: a change means reload it. */
const progressKey = (render: RenderDto) =>
  [
    render.status,
    render.frames.done,
    render.frames.rendering,
    render.frames.failed,
    render.failure,
    render.workers.map((worker) => `${worker.id}:${worker.framesDone}:${worker.rendering}`).join(","),
  ].join("|");

export interface LiveRenderOptions {
  /** False leaves the render as loaded (e.g. too many streams open on the page already). */
  live?: boolean;
  /** Reload the page's data when the progress changes, for what the event does not carry (the frames). */
  reloadOnProgress?: boolean;
}

/** `loaded` (the loader's render), updated by its events until it is finished. */
export function useLiveRender(loaded: RenderDto, { live = true, reloadOnProgress = false }: LiveRenderOptions = {}): RenderDto {
  // The loader's render wins when it is reloaded; the events apply on top of it.
  const [state, setState] = useState({ loaded, current: loaded });
  let current = state.current;
  if (state.loaded !== loaded) {
    current = loaded;
    setState({ loaded, current: loaded });
  }

  const { revalidate } = useRevalidator();
  const reload = useRef(revalidate);
  const loadedKey = useRef(progressKey(loaded));
  useEffect(() => {
    reload.current = revalidate;
    loadedKey.current = progressKey(loaded);
  });

  const visible = usePageVisible();
  const id = loaded.id;
  const active = live && visible && !isRenderFinished(current.status);
  useEffect(() => {
    if (!active) return;
    let timer: number | undefined;
    const reloadOnInterval = () => {
      timer ??= window.setInterval(() => reload.current(), FALLBACK_RELOAD_MS);
    };
    if (typeof EventSource === "undefined") {
      reloadOnInterval();
      return () => window.clearInterval(timer);
    }
    const source = new EventSource(`/api/v1/renders/${id}/events`);
    source.addEventListener("render", (event) => {
      window.clearInterval(timer);
      timer = undefined;
      const render = JSON.parse((event as MessageEvent<string>).data) as RenderDto;
      setState((previous) => ({ ...previous, current: render }));
      if (reloadOnProgress && progressKey(render) !== loadedKey.current) {
        loadedKey.current = progressKey(render);
        reload.current();
      }
      // The server ends a finished render's stream; closing first keeps EventSource from reconnecting.
      if (isRenderFinished(render.status)) source.close();
    });
    // EventSource reconnects by itself; until it is back, the page reloads instead.
    source.addEventListener("error", reloadOnInterval);
    return () => {
      source.close();
      window.clearInterval(timer);
    };
  }, [active, id, reloadOnProgress]);

  return current;
}
