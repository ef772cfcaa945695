// What server/app.ts hands every loader and action besides the Request: the Fetch API
// Request of the Express adapter carries no socket, so the peer's address comes here.
declare module "@remix-run/server-runtime" {
  interface AppLoadContext {
    /** The TCP peer's address; behind a proxy, the proxy's (see CACTUS_TRUST_PROXY). */
    clientIp?: string;
    /** This response's Content-Security-Policy nonce (entry.server.tsx puts it on the page's scripts). */
    cspNonce?: string;
    /** Set by handleError when the database failed the request: the server answers 503 instead. */
    databaseUnavailable?: boolean;
  }
}

export {};
