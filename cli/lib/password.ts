import type { CliIo, InStream } from "./context";
import { UsageError, UserError } from "./errors";

/** All of stdin, minus the newline `echo` adds: how `--password-stdin` takes a password. */
export async function readPasswordFromStdin(stdin: InStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (!password) throw new UsageError("stdin was empty; pipe the password in, e.g. `echo \"$PASSWORD\" | cactus login … --password-stdin`");
  return password;
}

/** Asks at the terminal without echoing what is typed. */
export function promptHiddenPassword(io: CliIo, question = "Password: "): Promise<string> {
  const { stdin, stderr } = io;
  if (!stdin.isTTY || !stdin.setRawMode) {
    return Promise.reject(
      new UsageError("no terminal to ask for the password; pipe it in with --password-stdin"),
    );
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.removeListener("data", onData);
      setRawMode(false);
      stdin.pause();
      stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u0003") return finish(new UserError("cancelled"));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** `--password-stdin` reads stdin; otherwise a terminal prompt with hidden input. */
export function readPassword(io: CliIo, fromStdin: boolean | undefined): Promise<string> {
  return fromStdin ? readPasswordFromStdin(io.stdin) : promptHiddenPassword(io);
}
