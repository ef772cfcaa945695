import type { LoaderFunctionArgs } from "@remix-run/node";
import { Outlet, useLoaderData } from "@remix-run/react";
import { BottomNav } from "~/components/bottom-nav";
import { ErrorPage } from "~/components/error-page";
import { Logo } from "~/components/logo";
import { requireUser } from "~/lib/auth.server";

/** The signed-in part of the PWA: a page column with the bottom navigation. */
export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  return { username: user.username };
}

export default function AppLayout() {
  const { username } = useLoaderData<typeof loader>();
  return (
    <div className="mx-auto min-h-dvh max-w-xl pb-24">
      <header className="flex items-center justify-between px-4 pt-[max(1rem,env(safe-area-inset-top))] pb-2">
        <Logo />
        <span className="text-sm text-stone-500">{username}</span>
      </header>
      <main className="px-4">
        <Outlet />
      </main>
      <BottomNav />
    </div>
  );
}

export function ErrorBoundary() {
  return <ErrorPage home="/projects" />;
}
