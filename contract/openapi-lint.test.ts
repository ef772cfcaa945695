import { createConfig, lintFromString } from "@redocly/openapi-core";
import { expect, test } from "vitest";
import { buildOpenApiDocument } from "./openapi";

// Redocly's "recommended" rules, run on the document the server serves (the rule set
// ships inside @redocly/openapi-core: nothing is fetched).
test("the OpenAPI document is clean under Redocly's recommended rules: no error, no warning", async () => {
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({
    source: JSON.stringify(buildOpenApiDocument()),
    absoluteRef: "openapi.json",
    config,
  });
  const described = problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`);
  expect(described).toEqual([]);
});

test("the lint catches what it is there for: an operation of a public endpoint without `security`", async () => {
  const document = buildOpenApiDocument();
  delete (document.paths["/auth/login"].post as { security?: unknown }).security;
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: "openapi.json", config });
  expect(problems.map((problem) => problem.ruleId)).toContain("security-defined");
});
