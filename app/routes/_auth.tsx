import { Outlet } from "@remix-run/react";
import { ErrorPage } from "~/components/error-page";
import { Logo } from "~/components/logo";

/** The signed-out pages (sign in, sign up, setup): one narrow column under the logo. */
export default function AuthLayout() {
  return (
    <div className="mx-auto flex min-h-dvh max-w-sm flex-col justify-center px-4 py-8">
      <p className="mb-6 text-center">
        <Logo size="lg" />
      </p>
      <Outlet />
    </div>
  );
}

export function ErrorBoundary() {
  return <ErrorPage />;
}
