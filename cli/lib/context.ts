import type { Argv, ArgumentsCamelCase } from "yargs";
import { ApiClient } from "./client";
import { configPath, readConfig, resolveSettings, writeConfig, type Env, type Settings, type StoredConfig } from "./config";
import { AuthError } from "./errors";
import { Output, type OutStream } from "./output";

/** A readable end for passwords: process.stdin, or a stream in tests. */
export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** The process's edges, injected so tests run the CLI in-process. */
export interface CliIo {
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Env;
}

/** Options every command takes. */
export interface GlobalArgs {
  server?: string;
  token?: string;
  json?: boolean;
}

/** What a command's handler gets besides its arguments. */
export interface CliContext {
  io: CliIo;
  output: Output;
  configFile: string;
  readConfig(): Promise<StoredConfig>;
  writeConfig(config: StoredConfig): Promise<void>;
  settings(): Promise<Settings>;
  /** A client for the resolved server and token; no server configured means not logged in. */
  client(): Promise<ApiClient>;
}

export function createContext(io: CliIo, args: GlobalArgs): CliContext {
  const configFile = configPath(io.env);
  const context: CliContext = {
    io,
    output: new Output(io.stdout, io.stderr, Boolean(args.json), io.env),
    configFile,
    readConfig: () => readConfig(configFile),
    writeConfig: (config) => writeConfig(configFile, config),
    async settings() {
      return resolveSettings(args, io.env, await context.readConfig());
    },
    async client() {
      const { server, token } = await context.settings();
      if (!server) {
        throw new AuthError("not logged in: run `cactus login --server URL --username NAME`, or set CACTUS_SERVER and CACTUS_TOKEN");
      }
      return new ApiClient(server, token);
    },
  };
  return context;
}

/** A command of one file: its yargs definition and a handler with an injected context. */
export interface CliCommand<A = object> {
  command: string;
  describe: string;
  builder?: (yargs: Argv<GlobalArgs>) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A & GlobalArgs>, context: CliContext) => Promise<void>;
}

export function defineCommand<A>(command: CliCommand<A>): CliCommand<A> {
  return command;
}
