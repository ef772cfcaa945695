// The page's Content-Security-Policy (decision 019): scripts only from this origin or with
// this response's nonce (Remix's inline hydration scripts), so an injected <script> or
// event handler does not run; no framing by other sites; nothing loaded from elsewhere.
// Service workers, web push and the event streams are same-origin: 'self' covers them.

export function documentCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    // Elements only from here (and a nonced one); style="" attributes stay allowed: React
    // renders progress bars' widths with them, and they cannot run code.
    "style-src 'self' 'unsafe-inline'",
    `style-src-elem 'self' 'nonce-${nonce}'`,
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** For what is not a page (JSON, images, event streams, zips): nothing to load, no framing. */
export const RESOURCE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";
