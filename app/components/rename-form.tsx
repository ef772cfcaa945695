import type { FetcherWithComponents } from "@remix-run/react";
import { failureOf } from "~/lib/form";
import { Button, Field, FormError } from "./ui";

/**
 * Renames one item of a list page: posts intent "rename", the item's id under `idField`
 * and the new name to the page's action, through the caller's fetcher (whose answer the
 * caller also reads, to keep its section open on a failure).
 */
export function RenameForm({
  fetcher,
  idField,
  id,
  name,
  fieldId,
}: {
  fetcher: FetcherWithComponents<unknown>;
  idField: string;
  id: number;
  name: string;
  /** The name field's element id, unique on the page. */
  fieldId: string;
}) {
  const failure = failureOf(fetcher.data);
  return (
    <fetcher.Form method="post" className="flex flex-col gap-2">
      <input type="hidden" name="intent" value="rename" />
      <input type="hidden" name={idField} value={id} />
      <Field label="Name" name="name" id={fieldId} defaultValue={name} required maxLength={100} error={failure?.fieldErrors.name} />
      <FormError>{failure?.formError}</FormError>
      <Button variant="secondary" disabled={fetcher.state !== "idle"}>
        Rename
      </Button>
    </fetcher.Form>
  );
}
