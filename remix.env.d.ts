/// <reference types="@remix-run/dev" />
/// <reference types="@remix-run/node" />

// remix.config.js turns single fetch on; this makes useLoaderData and useActionData
// infer the types single fetch really delivers (and understand `data()`).
declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
}

export {};
