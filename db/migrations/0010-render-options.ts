import type { Migration } from "../migrate";

// Scenes the farm understands (decisions 015 and 016): what a render changes of its scene,
// what the claim must know of it, and failures that are the scene's, not a worker's.
export const migration: Migration = {
  name: "0010-render-options",
  sql: /* sql */ `
-- The render's options, null where it takes the file's own: checked against the archive's
-- facts when requested, applied by the agent's own script (agent/scripts/render.py).
ALTER TABLE renders ADD COLUMN scene text;
ALTER TABLE renders ADD COLUMN camera text;
ALTER TABLE renders ADD COLUMN view_layer text;
ALTER TABLE renders ADD COLUMN resolution_percentage integer CHECK (resolution_percentage BETWEEN 1 AND 1000);
ALTER TABLE renders ADD COLUMN samples integer CHECK (samples >= 1);
-- Known once the archive's scene is read (at the request, or when the facts come): the
-- engine the claim matches against a worker's engines, and the size an uploaded frame
-- must have, so neither the claim nor the upload reads the archive's facts.
ALTER TABLE renders ADD COLUMN engine text;
ALTER TABLE renders ADD COLUMN output_width integer CHECK (output_width > 0);
ALTER TABLE renders ADD COLUMN output_height integer CHECK (output_height > 0);
-- Renders of archives already read: from their facts, as the claim read them before.
UPDATE renders r
   SET engine = a.engine,
       output_width = nullif(coalesce((a.scene_facts ->> 'outputWidth')::int, a.resolution_x * coalesce(a.resolution_percentage, 100) / 100), 0),
       output_height = nullif(coalesce((a.scene_facts ->> 'outputHeight')::int, a.resolution_y * coalesce(a.resolution_percentage, 100) / 100), 0)
  FROM archives a
 WHERE a.id = r.archive_id AND a.resolution_x IS NOT NULL;

-- A scene error (no camera…) fails the render at once and blames no worker: it does not
-- count towards a worker's blocklist.
ALTER TABLE task_failures ADD COLUMN blames_worker boolean NOT NULL DEFAULT true;
`,
};
