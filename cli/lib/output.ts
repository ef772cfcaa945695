import Table from "cli-table3";
import type { Env } from "./config";

/** A writable end the CLI prints to: process.stdout/stderr, or a buffer in tests. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org). */
export function colorEnabled(stream: OutStream, env: Env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Style = keyof typeof ANSI;

/**
 * Where a command's words go: with `--json` stdout carries only the JSON of the result;
 * messages, warnings and errors always go to stderr, so pipes get data and people get
 * both.
 */
export class Output {
  constructor(
    readonly stdout: OutStream,
    readonly stderr: OutStream,
    readonly json: boolean,
    private readonly env: Env,
  ) {}

  /** The result of a command: its JSON with `--json`, else what `human` renders. */
  result(data: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const text = human();
      if (text) this.stdout.write(`${text}\n`);
    }
  }

  /** A table of rows, or a sentence when there are none. */
  table(head: string[], rows: string[][], empty: string): string {
    if (rows.length === 0) return empty;
    const color = colorEnabled(this.stdout, this.env);
    const table = new Table({ head, style: { head: color ? ["cyan"] : [], border: color ? ["grey"] : [] } });
    table.push(...rows);
    return table.toString();
  }

  message(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  success(text: string): void {
    this.message(this.paint(this.stderr, "green", text));
  }

  error(text: string): void {
    this.message(`${this.paint(this.stderr, "red", "error:")} ${text}`);
  }

  paint(stream: OutStream, style: Style, text: string): string {
    return colorEnabled(stream, this.env) ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
  }
}

/** 1536 → "1.5 KiB": sizes as people read them. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** An API timestamp as a short local-free UTC date and time. */
export function formatTime(iso: string | null): string {
  if (!iso) return "-";
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
}
