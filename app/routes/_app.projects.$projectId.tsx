import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ArchiveCard } from "~/components/archive-card";
import { ArchiveUpload } from "~/components/archive-upload";
import { PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { notFoundPage, pageId } from "~/lib/form.server";
import { listProjectArchives, toArchiveDto } from "~/models/archive.server";
import { getProject } from "~/models/project.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.project.name ?? "Project"} · Cactus` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const project = await getProject({ id: pageId(params.projectId, "project"), userId: user.id });
  if (!project) throw notFoundPage("project");
  return { project, archives: (await listProjectArchives(project.id)).map(toArchiveDto) };
}

export default function ProjectPage() {
  const { project, archives } = useLoaderData<typeof loader>();
  return (
    <>
      <Link to="/projects" className="mb-1 inline-block text-sm text-stone-500 hover:text-stone-800">
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
            <ArchiveCard key={archive.id} archive={archive} />
          ))}
        </ul>
      )}
    </>
  );
}
