import yargs, { type Argv } from "yargs";
import pkg from "../package.json" with { type: "json" };
import { archiveList } from "./commands/archive/list";
import { archiveShow } from "./commands/archive/show";
import { archiveUpload } from "./commands/archive/upload";
import { login } from "./commands/auth/login";
import { logout } from "./commands/auth/logout";
import { signup } from "./commands/auth/signup";
import { whoami } from "./commands/auth/whoami";
import { inviteCreate } from "./commands/invite/create";
import { inviteList } from "./commands/invite/list";
import { projectCreate } from "./commands/project/create";
import { projectList } from "./commands/project/list";
import { projectRename } from "./commands/project/rename";
import { projectRm } from "./commands/project/rm";
import { creditsGrant, creditsShow } from "./commands/credits/credits";
import { fame } from "./commands/fame/fame";
import { renderCancel, renderConfirm, renderPause, renderResume } from "./commands/render/change";
import { renderAllow, renderDeny, renderPrice, renderTopUp, renderWorkers } from "./commands/render/economy";
import { requestAccept, requestDecline, requestList, requestRule } from "./commands/request/request";
import { renderDownload } from "./commands/render/download";
import { renderEstimate } from "./commands/render/estimate";
import { renderFailures } from "./commands/render/failures";
import { renderList } from "./commands/render/list";
import { renderRequest } from "./commands/render/request";
import { renderStatus } from "./commands/render/status";
import { tokenCreate } from "./commands/token/create";
import { tokenList } from "./commands/token/list";
import { tokenRevoke } from "./commands/token/revoke";
import { workerCreate } from "./commands/worker/create";
import { workerList } from "./commands/worker/list";
import { workerRename } from "./commands/worker/rename";
import { workerRm } from "./commands/worker/rm";
import { workerDisable, workerEnable } from "./commands/worker/switch";
import { workerUnsandboxed } from "./commands/worker/unsandboxed";
import { createContext, type CliCommand, type CliIo, type GlobalArgs } from "./lib/context";
import { CliError, UsageError, exitCodeOf } from "./lib/errors";
import { Output } from "./lib/output";

/* eslint-disable @typescript-eslint/no-explicit-any -- yargs' types cannot follow a list of differently-typed commands */
type AnyCommand = CliCommand<any>;

const topLevel: AnyCommand[] = [login, logout, whoami, signup, fame];
const groups: { noun: string; describe: string; verbs: AnyCommand[] }[] = [
  { noun: "project", describe: "Create, list, rename and delete projects", verbs: [projectCreate, projectList, projectRename, projectRm] },
  {
    noun: "archive",
    describe: "Upload .blend / .zip archives into a project, list them, show what their scenes hold",
    verbs: [archiveUpload, archiveList, archiveShow],
  },
  {
    noun: "render",
    describe: "Request renders, see their quote and confirm it, follow them, see why frames failed, stop them, download their frames",
    verbs: [
      renderRequest,
      renderList,
      renderStatus,
      renderEstimate,
      renderConfirm,
      renderFailures,
      renderCancel,
      renderPause,
      renderResume,
      renderDownload,
      renderPrice,
      renderTopUp,
      renderWorkers,
      renderAllow,
      renderDeny,
    ],
  },
  {
    noun: "request",
    describe: "Other people's renders asking for your workers: list them, accept or decline, or set a standing rule",
    verbs: [requestList, requestAccept, requestDecline, requestRule],
  },
  { noun: "credits", describe: "Your credits and their ledger; admins grant credits", verbs: [creditsShow, creditsGrant] },
  {
    noun: "worker",
    describe: "Your worker machines and their agents' tokens",
    verbs: [workerCreate, workerList, workerEnable, workerDisable, workerUnsandboxed, workerRename, workerRm],
  },
  { noun: "token", describe: "API tokens for scripts and CI", verbs: [tokenCreate, tokenList, tokenRevoke] },
  { noun: "invite", describe: "Invite people to sign up", verbs: [inviteCreate, inviteList] },
];

function bind(command: AnyCommand, io: CliIo) {
  return {
    command: command.command,
    describe: command.describe,
    builder: command.builder ?? ((y: Argv<GlobalArgs>) => y),
    handler: (args: any) => command.handler(args, createContext(io, args as GlobalArgs)),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function buildParser(argv: string[], io: CliIo): Argv<GlobalArgs> {
  let parser = yargs(argv)
    .scriptName("cactus")
    .usage("$0 <command> [options]\n\nThe command line of Blender Cactus, the shared render farm.")
    .option("server", { type: "string", global: true, describe: "Server URL (else CACTUS_SERVER, else the config file)" })
    .option("token", { type: "string", global: true, describe: "API token (else CACTUS_TOKEN, else the config file)" })
    .option("json", { type: "boolean", global: true, describe: "Print only the data, as JSON, on stdout" })
    .version(pkg.version)
    .help()
    .alias("help", "h")
    .strict()
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 80))
    .fail((message, error) => {
      if (error) throw error;
      throw new UsageError(`${message}\n${helpHint(argv)}`);
    });
  for (const command of topLevel) parser = parser.command(bind(command, io));
  for (const group of groups) {
    parser = parser.command(group.noun, group.describe, (y) => {
      for (const verb of group.verbs) y.command(bind(verb, io));
      // A group with a default verb (`cactus credits`) runs it when no verb is named.
      if (group.verbs.some((verb) => verb.command.startsWith("$0"))) return y;
      return y.demandCommand(1, `Name what to do with ${group.noun}s: ${group.verbs.map((verb) => verb.command.split(" ")[0]).join(", ")}.`);
    });
  }
  return parser
    .completion("completion", "Print a shell completion script (add it to ~/.bashrc or ~/.zshrc)")
    .demandCommand(1, "Name a command.")
    .example("echo \"$PW\" | $0 login --server URL -u admin --password-stdin", "sign in")
    .example('$0 project create "Spring short"', "create a project")
    .example('$0 archive upload shot010.blend --project "Spring short"', "upload a .blend")
    .example("$0 archive list -p 3 --json", "the archives of project 3, as JSON")
    .example("$0 archive show 7", "what an agent found in archive 7's scene")
    .example("$0 render request --archive 7 --frames 1-24", "render frames 1-24 of archive 7")
    .example("$0 render status 12 --watch", "follow render 12 live")
    .example("$0 worker create studio-pc", "a worker and its agent's token")
    .example("$0 request list", "other people's renders asking for your workers")
    .example("$0 credits --json", "your balance, escrow and ledger")
    .example("$0 token create --name ci --json", "a token for CI (use it as CACTUS_TOKEN)")
    .epilogue(
      "Settings resolve flag > env (CACTUS_SERVER, CACTUS_TOKEN) > config file ($CACTUS_CONFIG or " +
        "~/.config/cactus/config.json).\nExit codes: 0 ok, 1 error, 2 usage, 3 not authenticated / not allowed, 4 not found.\n" +
        "NO_COLOR turns colour off.",
    ) as Argv<GlobalArgs>;
}

/** "Run `cactus project create --help`": the deepest command the arguments name. */
function helpHint(argv: string[]): string {
  const words = argv.filter((arg) => !arg.startsWith("-"));
  const group = groups.find((candidate) => candidate.noun === words[0]);
  let path = "";
  if (group) {
    const verb = group.verbs.find((candidate) => candidate.command.split(" ")[0] === words[1]);
    path = verb ? `${group.noun} ${words[1]} ` : `${group.noun} `;
  } else if (topLevel.some((command) => command.command.split(" ")[0] === words[0])) {
    path = `${words[0]} `;
  }
  return `Run \`cactus ${path}--help\` for usage.`;
}

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Runs the CLI in-process and answers the exit code; tests call this. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const output = new Output(io.stdout, io.stderr, false, io.env);
  let printed = "";
  try {
    // A parse callback makes yargs hand over help and completion text instead of
    // printing it with console.log, so it goes to the injected stdout.
    await buildParser(argv, io).parseAsync(argv, {}, (_error, _argv, text) => {
      printed = text;
    });
    if (printed) io.stdout.write(`${printed}\n`);
    return 0;
  } catch (error) {
    output.error(error instanceof Error ? error.message : String(error));
    if (!(error instanceof CliError) && io.env.CACTUS_DEBUG && error instanceof Error) output.message(error.stack ?? "");
    return exitCodeOf(error);
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}

/** The binary: the one place the CLI ends the process, once its output is written. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}
