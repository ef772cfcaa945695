import { NO_SANDBOX, type SandboxSetting, detectSandbox, sandboxedRunner } from "../sandbox";
import { probeBlender } from "./blender-probe";

// A stand-in for the agent's process in the sandbox tests: started with a worker token in
// its environment (as systemd starts cactus-agent from /etc/cactus/agent.env), it runs one
// probe in Blender through the agent's runner and prints the attempts as JSON on stdout.
// The probe finds the agent's PID in params.agentPid, as an attacker could guess it.
// Run: node --import tsx agent/testing/probe-agent.ts '<json>'. Test-only.

interface Order {
  sandbox: SandboxSetting;
  blender: string;
  code: string;
  params?: unknown;
  files?: { readOnly?: string[]; writable?: string[] };
  tmpRoot: string;
}

const order = JSON.parse(process.argv[2]) as Order;
const sandbox = order.sandbox === "off" ? NO_SANDBOX : await detectSandbox(order.sandbox, { tmpRoot: order.tmpRoot });
const runner = sandboxedRunner(sandbox, { tmpRoot: order.tmpRoot });
const { attempts } = await probeBlender({ blender: order.blender, runner, code: order.code, params: { ...(order.params as object), agentPid: process.pid }, files: order.files });
process.stdout.write(`${JSON.stringify({ sandbox: sandbox.mode, attempts })}\n`);
