import { formatBytes, type OutStream } from "./output";

export interface Progress {
  /** Adds bytes done since the last call. */
  advance(bytes: number): void;
  done(): void;
}

const silent: Progress = { advance: () => undefined, done: () => undefined };
const WIDTH = 24;
const REDRAW_MS = 100;

/**
 * A progress bar for a byte count on stderr (bytes, %, rate), drawn in place. Only for a
 * terminal: in a pipe or a log file it would be noise, so it is silent there.
 */
export function createProgress(
  stream: OutStream,
  label: string,
  total: number,
  now: () => number = () => performance.now(),
): Progress {
  if (!stream.isTTY || total <= 0) return silent;
  const started = now();
  let done = 0;
  let drawnAt = -Infinity;
  const draw = () => {
    const elapsed = (now() - started) / 1000;
    const fraction = Math.min(1, done / total);
    const filled = Math.round(fraction * WIDTH);
    const rate = elapsed > 0 ? `${formatBytes(done / elapsed)}/s` : "";
    const bar = `${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    stream.write(`\r\u001b[2K${label} ${bar} ${percent} ${formatBytes(done)}/${formatBytes(total)} ${rate}`);
  };
  return {
    advance(bytes) {
      done += bytes;
      const at = now();
      if (at - drawnAt >= REDRAW_MS) {
        drawnAt = at;
        draw();
      }
    },
    done() {
      draw();
      stream.write("\n");
    },
  };
}
