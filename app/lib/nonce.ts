import { createContext, useContext } from "react";

// The Content-Security-Policy nonce of the page being rendered on the server, for the
// inline scripts Remix writes (hydration data, scroll restoration). In the browser it is
// empty: those scripts have run, and browsers hide a nonce from the page anyway.
const NonceContext = createContext("");

export const NonceProvider = NonceContext.Provider;

export function useNonce(): string {
  return useContext(NonceContext);
}
