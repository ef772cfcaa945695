import { z } from "zod";
import { nameSchema } from "./text";

export const projectNameSchema = nameSchema("project");

export const projectSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  archiveCount: z.number().int(),
  createdAt: z.iso.datetime(),
});
export type ProjectDto = z.infer<typeof projectSchema>;

export const createProjectRequestSchema = z.object({ name: projectNameSchema });
export const renameProjectRequestSchema = z.object({ name: projectNameSchema });
export const projectListSchema = z.object({ projects: z.array(projectSchema) });
