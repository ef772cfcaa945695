import { notFoundPage } from "~/lib/form.server";

// Any address no page answers: a 404 page in the sign-in pages' frame (with a way back),
// rather than a route-less render that Remix would log with a stack trace.
export function loader() {
  throw notFoundPage("page");
}

export default function NoSuchPage() {
  return null;
}
