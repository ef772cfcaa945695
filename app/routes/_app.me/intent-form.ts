import { useFetcher } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { failureOf } from "~/lib/form";
import type { action } from "./route";

type Answer = NonNullable<ReturnType<typeof useFetcher<typeof action>>["data"]>;
type Done<I extends string> = Extract<Answer, { ok: true; intent: I }>;

/**
 * A form of the Me page that posts one `intent`: its fetcher, its failure (field errors),
 * and the answer once it succeeded, after which the form is emptied for the next one.
 */
export function useIntentForm<I extends string>(intent: I) {
  const fetcher = useFetcher<typeof action>();
  const form = useRef<HTMLFormElement>(null);
  const failure = failureOf(fetcher.data);
  const data = fetcher.data as Answer | undefined;
  const done = data && "intent" in data && data.ok && data.intent === intent ? (data as Done<I>) : null;
  useEffect(() => {
    if (done) form.current?.reset();
  }, [done]);
  return { fetcher, form, failure, done };
}
