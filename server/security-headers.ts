import type express from "express";
import type { CactusConfig } from "../app/lib/env.server";

/**
 * Headers every answer carries (decision 019): no guessing of content types, no framing
 * by other sites, no page address leaking to them. Pages add their Content-Security-Policy
 * (app/entry.server.tsx), the API answers its own (server/remix-handler.ts).
 */
export function securityHeaders(config: CactusConfig): express.RequestHandler {
  const https = config.CACTUS_PUBLIC_URL?.startsWith("https:") ?? false;
  return (_req, res, next) => {
    res.set({
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      // Invitation links carry their code in the URL: other sites never see our addresses.
      "Referrer-Policy": "same-origin",
      "Cross-Origin-Opener-Policy": "same-origin",
      ...(https ? { "Strict-Transport-Security": "max-age=15552000" } : {}),
    });
    next();
  };
}
