// One `Range: bytes=…` header against a file of `size` bytes (RFC 9110 §14). Pure, so the
// downloads that resume (archives for agents) share one reading of it.

export interface ByteRange {
  start: number;
  /** Inclusive, as in Content-Range and fs.createReadStream. */
  end: number;
}

/**
 * The one range asked for, clamped to the file; null to send the whole file (no header,
 * a unit other than bytes, several ranges, or one that does not parse: a server may ignore
 * those); "unsatisfiable" when it starts past the end.
 */
export function parseByteRange(header: string | null, size: number): ByteRange | null | "unsatisfiable" {
  if (header === null) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    // A suffix: the last N bytes.
    const length = Number(match[2]);
    if (length === 0) return "unsatisfiable";
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Number(match[2]);
  if (start >= size) return "unsatisfiable";
  if (end < start) return null;
  return { start, end: Math.min(end, size - 1) };
}

export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}
