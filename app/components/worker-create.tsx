import { useFetcher } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { failureOf } from "~/lib/form";
import { CopyField } from "./copy-field";
import { Button, Card, Field, FormError } from "./ui";

interface Created {
  ok: true;
  intent: "create";
  name: string;
  token: string;
}

/**
 * A new worker: its token is shown once, with the command that starts an agent with it
 * on the machine (and the lines for the systemd service).
 */
export function WorkerCreate({ serverUrl }: { serverUrl: string }) {
  const create = useFetcher();
  const form = useRef<HTMLFormElement>(null);
  const failure = failureOf(create.data);
  const answer = create.data as Partial<Created> | undefined;
  const created = answer?.ok && answer.intent === "create" ? (answer as Created) : null;
  useEffect(() => {
    if (created) form.current?.reset();
  }, [created]);
  return (
    <Card>
      <h2 className="mb-1 font-semibold">Add a machine</h2>
      <p className="mb-3 text-sm text-stone-600">
        Each machine that renders runs <code className="whitespace-nowrap">cactus-agent</code> with its own worker token.
      </p>
      <create.Form ref={form} method="post" className="flex flex-col gap-3">
        <input type="hidden" name="intent" value="create" />
        <Field
          label="Worker name"
          name="name"
          placeholder="studio-pc"
          autoCapitalize="none"
          spellCheck={false}
          required
          maxLength={100}
          error={failure?.fieldErrors.name}
        />
        <FormError>{failure?.formError}</FormError>
        <Button disabled={create.state !== "idle"}>Create worker</Button>
      </create.Form>
      {created ? <NewWorkerToken name={created.name} token={created.token} serverUrl={serverUrl} /> : null}
    </Card>
  );
}

function NewWorkerToken({ name, token, serverUrl }: { name: string; token: string; serverUrl: string }) {
  const settings = `CACTUS_SERVER=${serverUrl}\nCACTUS_WORKER_TOKEN=${token}`;
  return (
    <div role="status" className="mt-3 flex flex-col gap-3 rounded-lg border border-cactus-200 bg-cactus-50 p-3">
      <p className="text-sm text-cactus-900">
        Worker “{name}” created. Copy its token now: it is shown only this once.
      </p>
      <CopyField label="Worker token" value={token} />
      <CopyField label="Run on the machine" multiline value={`CACTUS_SERVER=${serverUrl} CACTUS_WORKER_TOKEN=${token} npx cactus-agent`} />
      <p className="text-sm text-stone-700">
        <code>npx cactus-agent doctor</code> with the same settings checks Blender, the server and the token first. To run it
        as a systemd service, put these lines in <code>/etc/cactus/agent.env</code> (see “As a systemd service” in the README):
      </p>
      <pre className="rounded-lg bg-white px-3 py-2 font-mono text-xs break-all whitespace-pre-wrap" aria-label="agent.env">
        {settings}
      </pre>
    </div>
  );
}
