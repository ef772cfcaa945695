import { NotFoundError } from "./errors";

/**
 * A thing named on the command line by id or by name (a project, a worker). Ids win
 * (they are what the CLI prints); a name is matched exactly, else case-insensitively,
 * and two case-insensitive matches are refused rather than guessed.
 */
export function resolveByIdOrName<T extends { id: number; name: string }>(
  items: T[],
  ref: string | number,
  noun: string,
  listCommand: string,
): T {
  const wanted = String(ref).trim();
  const byId = /^\d+$/.test(wanted) ? items.find((item) => item.id === Number(wanted)) : undefined;
  if (byId) return byId;
  const exact = items.filter((item) => item.name === wanted);
  const matches = exact.length > 0 ? exact : items.filter((item) => item.name.toLowerCase() === wanted.toLowerCase());
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const ids = matches.map((item) => `${item.id} ("${item.name}")`).join(", ");
    throw new NotFoundError(`"${wanted}" matches several ${noun}s: ${ids}; give the id`);
  }
  throw new NotFoundError(`no ${noun} "${wanted}"; \`${listCommand}\` shows yours`);
}
