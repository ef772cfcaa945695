import type { IncomingHttpHeaders } from "node:http";
import type express from "express";

// Cross-site request forgery (decision 019). The session cookie is SameSite=Lax, which
// still lets another site's form POST text/plain to us with it... in some browsers and
// not in others, and not at all for a page on a sibling subdomain. So every write that is
// not sent with a bearer token must come from a page of this farm, as the browser itself
// says in Sec-Fetch-Site or Origin (neither can be set by a page's script).

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const SESSION_COOKIE = /(?:^|;\s*)cactus_session=/;

export interface OriginRule {
  /** CACTUS_PUBLIC_URL's origin, when set: pages behind a proxy come from there. */
  publicOrigin: string | null;
}

/** Why this request is refused as cross-site, or null when it may go on. */
export function crossSiteRefusal(method: string, headers: IncomingHttpHeaders, rule: OriginRule): string | null {
  if (SAFE_METHODS.has(method.toUpperCase())) return null;
  // A bearer token is never sent by a browser on its own: another site's page cannot add one.
  if (headers.authorization) return null;
  const fetchSite = one(headers["sec-fetch-site"]);
  if (fetchSite !== undefined) {
    return fetchSite === "same-origin" || fetchSite === "none" ? null : `the browser says it came from a ${fetchSite} page`;
  }
  const origin = one(headers.origin);
  if (origin !== undefined) {
    if (origin === "null") return "it came from a page with no origin (a sandboxed frame or a file)";
    if (origin === rule.publicOrigin) return null;
    const host = one(headers.host);
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return `its Origin ${JSON.stringify(origin)} is not an origin`;
    }
    return host !== undefined && originHost === host ? null : `it came from ${origin}, not from this farm's pages`;
  }
  // No word from the browser at all: fine for the CLI and agents, which send no cookie.
  return SESSION_COOKIE.test(one(headers.cookie) ?? "")
    ? "it carries the web app's cookie but neither Origin nor Sec-Fetch-Site"
    : null;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Express middleware: a refused write is a 403 in the API's error shape, logged in one line. */
export function originCheck(rule: OriginRule): express.RequestHandler {
  return (req, res, next) => {
    const why = crossSiteRefusal(req.method, req.headers, rule);
    if (why === null) return next();
    console.log(`Refused ${req.method} ${req.path} as cross-site: ${why}.`);
    res.status(403).json({
      error: {
        code: "forbidden",
        message: `This ${req.method} was refused because ${why}. Use the web app's own pages, or send an API token (\`Authorization: Bearer …\`).`,
      },
    });
  };
}
