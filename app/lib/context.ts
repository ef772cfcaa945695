// What server/app.ts hands every loader and action besides the Request: the Fetch API
// Request of the Express adapter carries no socket, so the peer's address comes here.
declare module "@remix-run/server-runtime" {
  interface AppLoadContext {
    /** The TCP peer's address; behind a proxy, the proxy's (see CACTUS_TRUST_PROXY). */
    clientIp?: string;
  }
}

export {};
