import { useFetcher } from "@remix-run/react";
import { CopyField } from "~/components/copy-field";
import { Button, Card, Field } from "~/components/ui";
import type { ApiTokenDto } from "~/models/token.server";
import { day } from "./dates";
import { useIntentForm } from "./intent-form";
import type { action } from "./route";

/** API tokens for the CLI and scripts: create (shown once), list, revoke. */
export function TokensSection({ tokens }: { tokens: ApiTokenDto[] }) {
  const { fetcher: create, form, failure, done: created } = useIntentForm("create-token");
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">API tokens</h2>
      <p className="mb-3 text-sm text-stone-600">
        For the <code>cactus</code> command line and scripts (<code>cactus login</code> makes one for you).
      </p>
      <create.Form ref={form} method="post" className="flex flex-col gap-3">
        <input type="hidden" name="intent" value="create-token" />
        <Field label="Token name" name="name" placeholder="CI pipeline" required maxLength={100} error={failure?.fieldErrors.name} />
        <Button disabled={create.state !== "idle"}>Create token</Button>
      </create.Form>
      {created ? (
        <div role="status" className="mt-3 flex flex-col gap-2 rounded-lg border border-cactus-200 bg-cactus-50 p-3">
          <p className="text-sm text-cactus-900">
            Token “{created.name}” created. Copy it now: it is shown only this once.
          </p>
          <CopyField label="New token" value={created.secret} />
        </div>
      ) : null}
      {tokens.length > 0 ? (
        <ul className="mt-4 divide-y divide-stone-100" aria-label="API tokens">
          {tokens.map((token) => (
            <TokenItem key={token.id} token={token} />
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

function TokenItem({ token }: { token: ApiTokenDto }) {
  const revoke = useFetcher<typeof action>();
  const used = token.lastUsedAt ? `last used ${day(token.lastUsedAt)}` : "never used";
  return (
    <li className="flex items-center justify-between gap-3 py-2">
      <div className="min-w-0">
        <p className={`font-medium wrap-anywhere ${token.revokedAt ? "text-stone-400 line-through" : ""}`}>{token.name}</p>
        <p className="text-xs text-stone-500">
          created {day(token.createdAt)} · {token.revokedAt ? `revoked ${day(token.revokedAt)}` : used}
        </p>
      </div>
      {token.revokedAt ? null : (
        <revoke.Form method="post">
          <input type="hidden" name="intent" value="revoke-token" />
          <input type="hidden" name="tokenId" value={token.id} />
          <Button variant="danger" disabled={revoke.state !== "idle"} aria-label={`Revoke ${token.name}`}>
            Revoke
          </Button>
        </revoke.Form>
      )}
    </li>
  );
}
