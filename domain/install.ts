// The lines that install the agent and the CLI from the farm itself (server/install.sh,
// decision 027): one place writes them for the Workers page, the API and the CLI. They
// name the farm's own address, so no package registry (and no stranger's package called
// cactus-agent) is ever asked.

/** Installs `cactus-agent` on a worker machine: as a user in ~/.local, as root a systemd service. */
export function agentInstallLine(origin: string, token: string): string {
  return `curl -fsSL ${origin}/agent/install.sh | sh -s -- --token ${token}`;
}

/** Installs the `cactus` command line. */
export function cliInstallLine(origin: string): string {
  return `curl -fsSL ${origin}/cli/install.sh | sh`;
}
