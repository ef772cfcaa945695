import { renderSchema, type RenderDto } from "../../contract";

export interface RenderEvents {
  /** Every render event so far, in order. */
  readonly events: RenderDto[];
  /** Resolves when the stream ends: the render finished, or the server went away. */
  readonly ended: Promise<void>;
  cancel(): void;
}

/** Opens a render's event stream and keeps its events, as the PWA's EventSource would receive them. */
export async function watchRender(serverUrl: string, token: string, renderId: number): Promise<RenderEvents> {
  const abort = new AbortController();
  const response = await fetch(`${serverUrl}/api/v1/renders/${renderId}/events`, {
    headers: { Authorization: `Bearer ${token}` },
    signal: abort.signal,
  });
  if (response.status !== 200) throw new Error(`The event stream of render ${renderId} answered ${response.status}: ${await response.text()}`);
  const events: RenderDto[] = [];
  const ended = (async () => {
    let buffer = "";
    try {
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += read.value;
        for (let match = /event: render\ndata: (.*)\n\n/.exec(buffer); match; match = /event: render\ndata: (.*)\n\n/.exec(buffer)) {
          events.push(renderSchema.parse(JSON.parse(match[1])));
          buffer = buffer.slice(match.index + match[0].length);
        }
      }
    } catch {
      // Cut off (the server died) or cancelled: what came is in `events`.
    }
  })();
  return { events, ended, cancel: () => abort.abort() };
}
