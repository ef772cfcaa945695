import type { Migration } from "../migrate";

// The daily sweep of frame images (app/lib/blob-sweep.server.ts) asks, a batch of keys at
// a time, which blobs no result refers to any more: by these, not by reading all results.
export const migration: Migration = {
  name: "0006-result-blob-keys",
  sql: /* sql */ `
CREATE INDEX results_image_key_idx ON results (image_key) WHERE image_key IS NOT NULL;
CREATE INDEX results_thumbnail_key_idx ON results (thumbnail_key) WHERE thumbnail_key IS NOT NULL;
`,
};
