import { z } from "zod";

export const projectNameSchema = z.string().trim().min(1, "Give the project a name.").max(100);

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
