import type { ProjectDto } from "../../contract";
import type { ApiClient } from "./client";
import { resolveByIdOrName } from "./resolve";

/** A project named on the command line by id or by name (see resolveByIdOrName). */
export async function resolveProject(client: ApiClient, ref: string | number): Promise<ProjectDto> {
  const { projects } = await client.call("listProjects", {});
  return resolveByIdOrName(projects, ref, "project", "cactus project list");
}
