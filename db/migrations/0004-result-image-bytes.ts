import type { Migration } from "../migrate";

// A frame's size in bytes, known when it is uploaded: the frame list and the zip read it
// here instead of stat-ing every image in storage on each request.
export const migration: Migration = {
  name: "0004-result-image-bytes",
  sql: /* sql */ `
-- Rows from before this migration stay NULL; their size is still read from storage.
ALTER TABLE results ADD COLUMN image_bytes bigint CHECK (image_bytes >= 0);
`,
};
