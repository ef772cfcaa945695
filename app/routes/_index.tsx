import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { getSessionUser } from "~/lib/auth.server";

/** The start page of the installed app: the projects when signed in, else sign in (or setup). */
export async function loader({ request }: LoaderFunctionArgs) {
  return redirect((await getSessionUser(request)) ? "/projects" : "/login");
}
