import type { LoaderFunctionArgs } from "@remix-run/node";
import { serveInstallFile } from "~/lib/install-routes.server";

/** /agent/install.sh, the agent's bundle and its systemd unit: what a worker machine installs from the farm. */
export function loader({ request, params }: LoaderFunctionArgs) {
  return serveInstallFile("agent", params.file, request);
}
