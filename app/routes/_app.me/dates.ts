/**
 * "2025-03-14": the same text on the server and in the browser whatever their time
 * zones, so hydration never disagrees.
 */
export function day(iso: string): string {
  return iso.slice(0, 10);
}
