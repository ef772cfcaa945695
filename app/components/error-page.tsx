import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";
import { Logo } from "./logo";

/** What a page shows instead of itself when its loader or action failed. */
export function ErrorPage({ home = "/" }: { home?: string }) {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  const message = notFound && (typeof error.data !== "string" || /No route matches/.test(error.data))
    ? "There is no page at this address. It may have moved, or the link was cut short."
    : isRouteErrorResponse(error)
    ? typeof error.data === "string" && error.data !== ""
      ? error.data
      : `${error.status} ${error.statusText}`
    : "Something went wrong on the server; it has been logged. Reload the page to try again.";
  return (
    <div className="mx-auto flex min-h-dvh max-w-xl flex-col items-center justify-center gap-4 p-6 text-center">
      <Logo size="lg" />
      <h1 className="text-xl font-bold">{notFound ? "Not found" : "That did not work"}</h1>
      <p className="text-stone-600">{message}</p>
      <Link to={home} className="inline-flex min-h-11 items-center font-semibold text-cactus-700 underline underline-offset-4">
        Back to the start
      </Link>
    </div>
  );
}
