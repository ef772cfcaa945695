#!/usr/bin/env node
// The `cactus` binary: TypeScript source run through tsx, so `npx cactus` works after `npm ci`.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../index.ts");
await run();
