#!/usr/bin/env node
// The `cactus-agent` binary: TypeScript source run through tsx, like cli/bin/cactus.js.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../index.ts");
await run();
