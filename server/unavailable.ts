import type express from "express";

// What a request gets while the database does not answer (decision 019): a 503 that says
// to come back, in the form the asker reads. The API and the agents get the error shape;
// the PWA's client-side navigations an error its error page shows; a page load a page of
// its own, which tries again by itself.

export const RETRY_AFTER_SECONDS = 5;
const MESSAGE = `The farm's database is not answering right now; nothing was changed. Try again in ${RETRY_AFTER_SECONDS} seconds.`;

export function sendUnavailable(req: express.Request, res: express.Response, nonce: string): void {
  res.status(503).set({ "Retry-After": String(RETRY_AFTER_SECONDS), "Cache-Control": "no-store" });
  if (req.path.startsWith("/api/")) {
    res.json({ error: { code: "unavailable", message: MESSAGE } });
  } else if (req.query._data !== undefined) {
    // Remix's client throws an X-Remix-Catch answer as a response: the error page shows its text.
    res.set("X-Remix-Catch", "yes").json(MESSAGE);
  } else {
    res.set("Content-Security-Policy", `default-src 'none'; style-src-elem 'nonce-${nonce}'; frame-ancestors 'none'`);
    res.type("html").send(page(nonce));
  }
}

function page(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${RETRY_AFTER_SECONDS * 2}">
<title>Cactus is waiting for its database</title>
<style nonce="${nonce}">
body{margin:0;min-height:100dvh;display:flex;align-items:center;justify-content:center;font-family:system-ui,sans-serif;background:#fafaf9;color:#1c1917}
main{max-width:22rem;padding:1.5rem;text-align:center}h1{font-size:1.25rem}p{color:#57534e;line-height:1.5}a{color:#256530;font-weight:600}
</style></head>
<body><main>
<h1>Cactus is waiting for its database</h1>
<p>The farm's database is not answering right now, so this page cannot be shown. Nothing you did was lost.</p>
<p>This page tries again by itself every ${RETRY_AFTER_SECONDS * 2} seconds, or <a href="">try again now</a>.</p>
</main></body></html>`;
}
