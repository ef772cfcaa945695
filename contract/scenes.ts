import { z } from "zod";

// The scenes of a .blend as an agent's inspection reads them (agent/scripts/inspect.py):
// shared by what agents report (agent.ts) and what archives answer (archives.ts).

export const viewLayerSchema = z.object({
  name: z.string(),
  use: z.boolean().describe('"Use for Rendering": a layer with it off renders nothing.'),
});

export const renderBorderSchema = z
  .object({
    minX: z.number(),
    maxX: z.number(),
    minY: z.number(),
    maxY: z.number(),
    crop: z.boolean().describe("The images written are the region alone."),
  })
  .describe("The render region (Blender's border), in fractions of the frame; null when off.");

/** One scene of a file, as agent/scripts/inspect.py reads it. */
export const sceneOfFileSchema = z.object({
  name: z.string(),
  frameStart: z.number().int(),
  frameEnd: z.number().int(),
  frameStep: z.number().int(),
  fps: z.number(),
  resolutionX: z.number().int(),
  resolutionY: z.number().int(),
  resolutionPercentage: z.number().int(),
  outputWidth: z.number().int().describe("Width of the images Blender writes: resolution × percentage, cropped to the border when set."),
  outputHeight: z.number().int(),
  border: renderBorderSchema.nullable(),
  engine: z.string(),
  samples: z.number().int().nullable(),
  denoising: z.boolean(),
  outputFormat: z.string(),
  cameras: z.array(z.string()).describe("Camera objects in the scene."),
  activeCamera: z.string().nullable().describe("The scene's camera, which Blender renders through; null: none set."),
  viewLayers: z.array(viewLayerSchema),
});
