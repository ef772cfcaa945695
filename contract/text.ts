import { z } from "zod";

// Names people give things (projects, workers, tokens, files) are shown to other people
// and in terminals: no control characters (NUL, a newline, an escape sequence) and no
// text-direction overrides, which can make a name read as something it is not.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_OR_DIRECTION = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;

/** True when the text holds a control character or a text-direction mark. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_OR_DIRECTION.test(text);
}

/** A name of `what` (trimmed, 1 to `max` characters, printable). */
export function nameSchema(what: string, max = 100) {
  return z
    .string()
    .trim()
    .min(1, `Give the ${what} a name.`)
    .max(max, `A ${what} name has at most ${max} characters.`)
    .refine((name) => !hasControlCharacters(name), `A ${what} name cannot hold control characters (a newline, NUL, …) or text-direction marks.`);
}

/** An email address as mail systems take it: at most 254 characters (RFC 5321). */
export const emailSchema = z
  .string()
  .trim()
  .max(254, "An email address has at most 254 characters.")
  .pipe(z.email("Give a valid email address."));
