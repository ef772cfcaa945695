import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { destroyUserSession } from "~/lib/auth.server";

// Signing out is a POST (the "Sign out" button), so a link or a prefetch cannot do it.
export function action({ request }: ActionFunctionArgs) {
  return destroyUserSession(request);
}

export function loader() {
  return redirect("/");
}
