import type { ProjectDto } from "../../contract";
import type { ApiClient } from "./client";
import { NotFoundError } from "./errors";

/**
 * A project named on the command line by id or by name. Ids win (they are what the
 * CLI prints); a name is matched exactly, else case-insensitively, and two
 * case-insensitive matches are refused rather than guessed.
 */
export async function resolveProject(client: ApiClient, ref: string | number): Promise<ProjectDto> {
  const wanted = String(ref).trim();
  const { projects } = await client.call("listProjects", {});
  const byId = /^\d+$/.test(wanted) ? projects.find((project) => project.id === Number(wanted)) : undefined;
  if (byId) return byId;
  const exact = projects.filter((project) => project.name === wanted);
  const matches = exact.length > 0 ? exact : projects.filter((project) => project.name.toLowerCase() === wanted.toLowerCase());
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const ids = matches.map((project) => `${project.id} ("${project.name}")`).join(", ");
    throw new NotFoundError(`"${wanted}" matches several projects: ${ids}; give the id`);
  }
  throw new NotFoundError(`no project "${wanted}"; \`cactus project list\` shows yours`);
}
