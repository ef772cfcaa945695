import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ArchiveCard } from "~/components/archive-card";
import { ArchiveUpload } from "~/components/archive-upload";
import { RenderRequestForm } from "~/components/render-request-form";
import { PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, notFoundPage, pageId, parseForm, problemAsFormError } from "~/lib/form.server";
import { listProjectArchives, toArchiveDto } from "~/models/archive.server";
import { getProject } from "~/models/project.server";
import { requestRender } from "~/models/render.server";
import { renderForm } from "~/lib/page-forms.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.project.name ?? "Project"} · Cactus` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const project = await getProject({ id: pageId(params.projectId, "project"), userId: user.id });
  if (!project) throw notFoundPage("project");
  return { project, archives: (await listProjectArchives(project.id)).map(toArchiveDto) };
}

/** "Render" on an archive: the render is requested and the page goes to it. */
export async function action({ request, params }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const project = await getProject({ id: pageId(params.projectId, "project"), userId: user.id });
  if (!project) throw notFoundPage("project");
  const formData = await request.formData();
  const intent = formIntent(formData);
  if (intent !== "render") return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
  const form = parseForm(renderForm, formData);
  if (!form.ok) return invalidForm(form.fieldErrors);
  try {
    const render = await requestRender({ userId: user.id, request: form.data });
    return redirect(`/renders/${render.id}`);
  } catch (error) {
    // The frames or chunk do not fit the scene, or the archive is gone: the message says what to change.
    return problemAsFormError(error);
  }
}

export default function ProjectPage() {
  const { project, archives } = useLoaderData<typeof loader>();
  return (
    <>
      <Link to="/projects" className="-ml-2 mb-1 inline-flex min-h-11 items-center px-2 text-sm text-stone-600 hover:text-stone-900">
        ← Projects
      </Link>
      <PageTitle>
        <span className="wrap-anywhere">{project.name}</span>
      </PageTitle>
      <ArchiveUpload projectId={project.id} />
      <h2 className="mt-6 mb-2 font-semibold">Archives</h2>
      {archives.length === 0 ? (
        <p className="text-stone-500">No archives yet. Upload a .blend, or a .zip with the .blend and its textures.</p>
      ) : (
        <ul className="flex flex-col gap-3" aria-label="Archives">
          {archives.map((archive) => (
            <ArchiveCard key={archive.id} archive={archive}>
              <RenderRequestForm archive={archive} />
            </ArchiveCard>
          ))}
        </ul>
      )}
    </>
  );
}
