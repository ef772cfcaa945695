import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { PageTitle } from "~/components/ui";
import { WorkerCard } from "~/components/worker-card";
import { WorkerCreate } from "~/components/worker-create";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { publicOriginOrNull } from "~/lib/runtime.server";
import { createWorker, deleteWorker, listWorkers, updateWorker } from "~/models/worker.server";
import { workerNameForm, workerIdForm } from "~/lib/page-forms.server";

export const meta: MetaFunction = () => [{ title: "Workers · Cactus" }];

/** Statuses change as agents come and go; the page asks again this often while it is shown. */
const RELOAD_MS = 30_000;

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return {
    workers: await listWorkers(user.id),
    // "seen 3 min ago" is measured against the server's clock, the one that wrote last seen.
    now: new Date().toISOString(),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  const intent = formIntent(formData);
  try {
    if (intent === "create") {
      const form = parseForm(workerNameForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      // The agent is told to connect to the public address, when one is set.
      const worker = await createWorker({ userId: user.id, name: form.data.name, origin: publicOriginOrNull(request) });
      return { ok: true as const, intent, name: worker.name, token: worker.token, install: worker.agentInstall };
    }
    const target = parseForm(workerIdForm, formData);
    if (!target.ok) return invalidForm(target.fieldErrors);
    const id = target.data.workerId;
    if (intent === "rename") {
      const form = parseForm(workerNameForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      await updateWorker({ id, userId: user.id, name: form.data.name });
      return { ok: true as const, intent };
    }
    if (intent === "enable" || intent === "disable") {
      await updateWorker({ id, userId: user.id, enabled: intent === "enable" });
      return { ok: true as const, intent };
    }
    if (intent === "others-unsandboxed" || intent === "others-sandboxed-only") {
      await updateWorker({ id, userId: user.id, othersUnsandboxed: intent === "others-unsandboxed" });
      return { ok: true as const, intent };
    }
    if (intent === "remove") {
      await deleteWorker({ id, userId: user.id });
      return { ok: true as const, intent };
    }
  } catch (error) {
    // A name already taken belongs under the name field; anything else (a worker gone meanwhile) to the form.
    return problemAsFormError(error, intent === "create" || intent === "rename" ? "name" : undefined);
  }
  return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
}

export default function WorkersPage() {
  const { workers, now } = useLoaderData<typeof loader>();
  const { revalidate } = useRevalidator();
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") revalidate();
    }, RELOAD_MS);
    return () => window.clearInterval(timer);
  }, [revalidate]);
  return (
    <>
      <PageTitle>Workers</PageTitle>
      <WorkerCreate />
      {workers.length === 0 ? (
        <p className="mt-6 text-center text-stone-500">No workers yet. Create one above and start its agent on the machine.</p>
      ) : (
        <ul className="mt-4 flex flex-col gap-3" aria-label="Your workers">
          {workers.map((worker) => (
            <WorkerCard key={worker.id} worker={worker} now={now} />
          ))}
        </ul>
      )}
    </>
  );
}
