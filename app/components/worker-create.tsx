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
  /** The line that installs and starts its agent (domain/install.ts). */
  install: string;
}

/**
 * A new worker: its token is shown once, with the line that installs and starts an agent
 * with it on the machine, from this farm.
 */
export function WorkerCreate() {
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
      {created ? <NewWorkerToken {...created} /> : null}
    </Card>
  );
}

function NewWorkerToken({ name, token, install }: Created) {
  return (
    <div role="status" className="mt-3 flex flex-col gap-3 rounded-lg border border-cactus-200 bg-cactus-50 p-3">
      <p className="text-sm text-cactus-900">
        Worker “{name}” created. Its token is in the line below and shown only this once.
      </p>
      <CopyField label="Install and start on the machine" value={install} multiline />
      <p className="text-sm text-stone-700">
        The machine needs Node 20 or newer and Blender. Run as yourself, the line installs the <code>cactus-agent</code>{" "}
        command in <code>~/.local/bin</code>; with <code>sudo sh</code> instead of <code>sh</code>, a systemd service with a
        user of its own that starts now and at every boot. Either way it first checks Blender, the sandbox, this farm and the
        token.
      </p>
      <CopyField label="Worker token" value={token} />
    </div>
  );
}
