// How a worker's agent runs Blender (docs/design.md §5, decision 017): inside a bubblewrap
// sandbox, or with the agent's own user's rights. The agent reports it at hello; the
// scheduler will only send other people's renders to sandboxed workers.

export const SANDBOX_MODES = ["bwrap", "off"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

