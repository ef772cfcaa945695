import { expect, test } from "vitest";
import { agentInstallLine, cliInstallLine } from "./install";

test("the install lines fetch the farm's own script, never a registry's package", () => {
  expect(agentInstallLine("https://farm.example", "ccw_abc")).toBe("curl -fsSL https://farm.example/agent/install.sh | sh -s -- --token ccw_abc");
  expect(cliInstallLine("http://127.0.0.1:3000")).toBe("curl -fsSL http://127.0.0.1:3000/cli/install.sh | sh");
  expect(agentInstallLine("https://farm.example", "ccw_abc")).not.toMatch(/npx|npm/);
});
