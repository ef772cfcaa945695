import type { LoaderFunctionArgs } from "@remix-run/node";
import { serveInstallFile } from "~/lib/install-routes.server";

/** /cli/install.sh and the CLI's bundle: the `cactus` command, installed from the farm. */
export function loader({ request, params }: LoaderFunctionArgs) {
  return serveInstallFile("cli", params.file, request);
}
