// Blender's render engines, by the names a scene stores (`scene.render.engine`). A worker
// tells the server at hello which of them its Blender renders on that machine (its agent
// tries each: agent/scripts/engines.py), and the claim hands it only renders of those.

export const RENDER_ENGINES = ["CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH"] as const;
export type RenderEngine = (typeof RENDER_ENGINES)[number];

/** What people call them. */
export const ENGINE_LABELS: Record<RenderEngine, string> = {
  CYCLES: "Cycles",
  BLENDER_EEVEE: "Eevee",
  // Blender 4.2's rewrite; the same name in the interface.
  BLENDER_EEVEE_NEXT: "Eevee",
  BLENDER_WORKBENCH: "Workbench",
};

export function isRenderEngine(name: string): name is RenderEngine {
  return (RENDER_ENGINES as readonly string[]).includes(name);
}

/** Engines in the order people know them (Cycles, Eevee, Workbench), add-ons' after by name, once each. */
export function sortEngines(engines: readonly string[]): string[] {
  const rank = (name: string) => (isRenderEngine(name) ? RENDER_ENGINES.indexOf(name) : RENDER_ENGINES.length);
  return [...new Set(engines)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** "Eevee", or the name itself for an add-on's engine. */
export function engineLabel(name: string): string {
  return isRenderEngine(name) ? ENGINE_LABELS[name] : name;
}

/** Engines whose samples a render can set (Workbench anti-aliases by a fixed pattern instead). */
export function engineHasSamples(name: string): boolean {
  return name === "CYCLES" || name === "BLENDER_EEVEE" || name === "BLENDER_EEVEE_NEXT";
}
