import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { useEffect, useRef } from "react";
import { type ProjectDto } from "../../contract";
import { RenameForm } from "~/components/rename-form";
import { Button, Card, Field, FormError, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { failureOf } from "~/lib/form";
import { formIntent, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { createProject, deleteProject, listProjects, renameProject } from "~/models/project.server";
import { projectNameForm, projectIdForm } from "~/lib/page-forms.server";

export const meta: MetaFunction = () => [{ title: "Projects · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { projects: await listProjects(user.id) };
}

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  const intent = formIntent(formData);
  try {
    if (intent === "create") {
      const form = parseForm(projectNameForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      // A new project is empty: its page is where the upload happens next.
      const project = await createProject({ userId: user.id, name: form.data.name });
      return redirect(`/projects/${project.id}`);
    }
    const target = parseForm(projectIdForm, formData);
    if (!target.ok) return invalidForm(target.fieldErrors);
    const id = target.data.projectId;
    if (intent === "rename") {
      const form = parseForm(projectNameForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      return { ok: true as const, project: await renameProject({ id, userId: user.id, name: form.data.name }) };
    }
    if (intent === "delete") {
      await deleteProject({ id, userId: user.id });
      return { ok: true as const, project: null };
    }
  } catch (error) {
    return problemAsFormError(error, intent === "delete" ? undefined : "name");
  }
  return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
}

export default function ProjectsPage() {
  const { projects } = useLoaderData<typeof loader>();
  return (
    <>
      <PageTitle>Projects</PageTitle>
      <NewProjectForm />
      {projects.length === 0 ? (
        <p className="mt-6 text-center text-stone-500">No projects yet. Create one above, then upload a .blend into it.</p>
      ) : (
        <ul className="mt-4 flex flex-col gap-3" aria-label="Your projects">
          {projects.map((project) => (
            <ProjectItem key={project.id} project={project} />
          ))}
        </ul>
      )}
    </>
  );
}

function NewProjectForm() {
  const fetcher = useFetcher<typeof action>();
  const form = useRef<HTMLFormElement>(null);
  const failure = failureOf(fetcher.data);
  const created = fetcher.state === "idle" && fetcher.data?.ok === true;
  useEffect(() => {
    if (created) form.current?.reset();
  }, [created]);
  return (
    <Card>
      <fetcher.Form ref={form} method="post" className="flex flex-col gap-3">
        <input type="hidden" name="intent" value="create" />
        <Field label="New project" name="name" placeholder="Spring short" required maxLength={100} error={failure?.fieldErrors.name} />
        <FormError>{failure?.formError}</FormError>
        <Button disabled={fetcher.state !== "idle"}>Create project</Button>
      </fetcher.Form>
    </Card>
  );
}

function ProjectItem({ project }: { project: ProjectDto }) {
  const rename = useFetcher<typeof action>();
  const remove = useFetcher<typeof action>();
  const renameFailure = failureOf(rename.data);
  const deleteFailure = failureOf(remove.data);
  const archives = `${project.archiveCount} archive${project.archiveCount === 1 ? "" : "s"}`;
  return (
    <li className="rounded-xl border border-stone-200 bg-white shadow-sm">
      <Link to={`/projects/${project.id}`} className="flex items-center justify-between gap-3 p-4">
        <span className="min-w-0 font-semibold wrap-anywhere">{project.name}</span>
        <span className="shrink-0 text-sm text-stone-500">{archives}</span>
      </Link>
      <details className="border-t border-stone-100 px-4 py-2" open={Boolean(renameFailure || deleteFailure) || undefined}>
        <summary className="min-h-11 cursor-pointer content-center text-sm font-medium text-stone-600">
          Rename or delete
        </summary>
        <div className="flex flex-col gap-4 pt-2 pb-3">
          <RenameForm fetcher={rename} idField="projectId" id={project.id} name={project.name} fieldId={`rename-${project.id}`} />
          <remove.Form method="post" className="flex flex-col gap-2">
            <input type="hidden" name="intent" value="delete" />
            <input type="hidden" name="projectId" value={project.id} />
            <FormError>{deleteFailure?.formError}</FormError>
            <Button variant="danger" disabled={remove.state !== "idle"}>
              Delete project and its {archives}
            </Button>
          </remove.Form>
        </div>
      </details>
    </li>
  );
}
