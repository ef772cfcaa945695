import path from "node:path";
import type { UploadedArchiveDto } from "../../../contract";
import { defineCommand } from "../../lib/context";
import { NotFoundError } from "../../lib/errors";
import { sha256File, uploadableFileSize } from "../../lib/files";
import { formatBytes } from "../../lib/output";
import { createProgress } from "../../lib/progress";
import { resolveProject } from "../../lib/projects";

export const archiveUpload = defineCommand({
  command: "upload <file>",
  describe: "Upload a .blend or a .zip into a project (skips the bytes when the server has them)",
  builder: (yargs) =>
    yargs
      .positional("file", { type: "string", demandOption: true, describe: "The .blend or .zip" })
      .option("project", { alias: "p", type: "string", demandOption: true, describe: "The project's id or name" })
      .option("main", { type: "string", describe: "The main .blend inside a zip that holds several" })
      .example('$0 archive upload shot010.blend --project "Spring short"', "upload a .blend")
      .example("$0 archive upload shot020.zip -p 3 --main scenes/shot020.blend", "a zip with textures"),
  async handler(args, context) {
    const { output, io } = context;
    const file = args.file;
    const size = await uploadableFileSize(file);
    const filename = path.basename(file);
    const client = await context.client();
    const project = await resolveProject(client, args.project);

    const hashing = createProgress(io.stderr, "hashing  ", size);
    const sha256 = await sha256File(file, (bytes) => hashing.advance(bytes));
    hashing.done();

    let archive: UploadedArchiveDto;
    try {
      archive = await client.call("dedupeArchive", {
        params: { projectId: project.id },
        body: { sha256, filename, ...(args.main ? { mainPath: args.main } : {}) },
      });
    } catch (error) {
      // 404 is the server's "I don't have those bytes": send them.
      if (!(error instanceof NotFoundError)) throw error;
      const uploading = createProgress(io.stderr, "uploading", size);
      archive = await client.upload({
        projectId: project.id,
        file,
        size,
        sha256,
        filename,
        main: args.main,
        onProgress: (bytes) => uploading.advance(bytes),
      });
      uploading.done();
    }

    const how = archive.deduplicated ? "already on the server, no bytes sent" : "uploaded";
    output.success(`${filename} → project "${project.name}": archive ${archive.id}, ${how}`);
    output.result(archive, () =>
      output.table(
        ["id", "file", "kind", "size", "blender", "sha256"],
        [[String(archive.id), archive.filename, kindLabel(archive), formatBytes(archive.size), archive.facts.blenderVersion ?? "-", archive.hash]],
        "",
      ),
    );
  },
});

export function kindLabel(archive: { kind: string; mainPath: string | null; facts: { compression: string | null } }): string {
  const compression = archive.facts.compression && archive.facts.compression !== "none" ? ` (${archive.facts.compression})` : "";
  return archive.kind === "zip" && archive.mainPath ? `zip → ${archive.mainPath}${compression}` : `${archive.kind}${compression}`;
}
