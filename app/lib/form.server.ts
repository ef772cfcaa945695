import { data } from "@remix-run/node";
import type { z } from "zod";
import { errorStatus } from "../../contract";
import type { FormFailure } from "./form";
import { Problem } from "./problem.server";

export type ParsedForm<T> = { ok: true; data: T } | { ok: false; fieldErrors: Record<string, string> };

/** Validates a submitted form with a zod object schema; the first message per field. */
export function parseForm<S extends z.ZodType>(schema: S, formData: FormData): ParsedForm<z.infer<S>> {
  const fields = Object.fromEntries([...formData].filter(([, value]) => typeof value === "string"));
  const parsed = schema.safeParse(fields);
  if (parsed.success) return { ok: true, data: parsed.data };
  const fieldErrors: Record<string, string> = {};
  for (const issue of parsed.error.issues) fieldErrors[String(issue.path[0] ?? "form")] ??= issue.message;
  return { ok: false, fieldErrors };
}

/** 400 with the field errors, for the page to show next to the fields. */
export function invalidForm(fieldErrors: Record<string, string>) {
  return data<FormFailure>({ ok: false, fieldErrors, formError: null }, { status: 400 });
}

/** A refusal for the whole form, with the status the API would give it. */
export function formRefusal(message: string, status: number, headers?: HeadersInit) {
  return data<FormFailure>({ ok: false, fieldErrors: {}, formError: message }, { status, headers });
}

/**
 * A Problem a model raised becomes the form's error (its message already says what to
 * do next); anything else is a real failure and goes on to the error boundary.
 */
export function problemAsFormError(error: unknown, field?: string) {
  if (!(error instanceof Problem)) throw error;
  if (field) return data<FormFailure>({ ok: false, fieldErrors: { [field]: error.message }, formError: null }, { status: errorStatus[error.code] });
  return formRefusal(error.message, errorStatus[error.code]);
}

/** The form's `intent`, for routes with several actions. */
export function formIntent(formData: FormData): string {
  const intent = formData.get("intent");
  return typeof intent === "string" ? intent : "";
}

/** A page URL's numeric id; anything else is a 404 page, like an id that is not yours. */
export function pageId(raw: string | undefined, what: string): number {
  const id = raw && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw notFoundPage(what);
  return id;
}

export function notFoundPage(what: string): Response {
  return new Response(`There is no ${what} here, or it is not yours.`, { status: 404, statusText: "Not Found" });
}
