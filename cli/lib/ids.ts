import { UsageError } from "./errors";

/** A positive integer id from the command line, or a usage error naming what it is. */
export function parseId(value: unknown, what: string): number {
  const text = String(value).trim();
  if (!/^[1-9]\d*$/.test(text)) throw new UsageError(`${what} must be a positive whole number, like 12; got "${text}"`);
  return Number(text);
}
