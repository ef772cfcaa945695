import { BundlesMissing, type InstallRoute, bundleFile, installScript, installedUnit, readBundle } from "./bundles.server";
import { publicOriginOrNull } from "./runtime.server";

// What /agent/… and /cli/… serve: the install script, the bundle it fetches, the agent's
// unit. Plain text and files, not the API: `curl | sh` and a browser read them alike.

const text = (body: string, status = 200, type = "text/plain") =>
  new Response(body, { status, headers: { "Content-Type": `${type}; charset=utf-8`, "Cache-Control": "no-cache" } });

export function serveInstallFile(route: InstallRoute, name: string | undefined, request: Request): Response {
  const origin = publicOriginOrNull(request);
  if (origin === null) {
    return text(
      `This farm does not know the address it is reached at (the request named the host "${new URL(request.url).host}", ` +
        "which is not one of this machine's names): the farm's admin sets CACTUS_PUBLIC_URL, then the install line works.\n",
      400,
    );
  }
  try {
    if (name === "install.sh") return text(installScript(route, origin), 200, "text/x-shellscript");
    if (route === "agent" && name === "cactus-agent.service") return text(installedUnit(origin));
    const file = bundleFile(route);
    if (name === file.file) {
      return new Response(readBundle(file), {
        headers: {
          "Content-Type": "text/javascript; charset=utf-8",
          "Content-Length": String(file.bytes),
          ETag: `"${file.sha256}"`,
          "Cache-Control": "no-cache",
        },
      });
    }
  } catch (error) {
    if (error instanceof BundlesMissing) return text(`${error.message}\n`, 503);
    throw error;
  }
  return text(`Nothing here. To install, run:\n\n    curl -fsSL ${origin}/${route}/install.sh | sh -s -- --help\n`, 404);
}
