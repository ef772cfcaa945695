// Client-safe: what a page's action answers when a form cannot be done, so every form
// reads its errors the same way (the server side is in form.server.ts).

export interface FormFailure {
  ok: false;
  /** One message per field, shown under the field. */
  fieldErrors: Record<string, string>;
  /** A message about the whole form, e.g. "wrong password". */
  formError: string | null;
}

/** The failure in an action's answer, if it is one. */
export function failureOf(answer: unknown): FormFailure | null {
  if (typeof answer !== "object" || answer === null || (answer as { ok?: unknown }).ok !== false) return null;
  return answer as FormFailure;
}
