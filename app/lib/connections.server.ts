import { getRuntime } from "./runtime.server";

// The app's side of the cap on anonymous connections (server/connections.ts): a request
// that proved who it is frees its connection from the count of its address.

/** Set by the server on every request it hands the app, never taken from the client. */
export const CONNECTION_HEADER = "x-cactus-connection";

export function noteAuthenticated(request: Request): void {
  const id = request.headers.get(CONNECTION_HEADER);
  if (id) getRuntime().hooks.onAuthenticated?.(id);
}
