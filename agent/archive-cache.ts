import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { ArchiveKind } from "../domain/blend-header";
import { normalizeZipPath } from "../domain/zip-paths";
import type { ClaimedTask } from "../contract";
import { ArchiveRefused, unpackZip } from "./unzip";

export { ArchiveRefused };

// Archives are fetched once per machine (docs/design.md §5) and kept by sha256 under the cache
// dir, least recently used first out when they pass the byte limit:
//
//   <dir>/tmp/                    downloads and unpacking in progress (emptied at start)
//   <dir>/archives/<sha256>/      one finished entry, private to the agent (0700)
//       entry.json                written last; its mtime is the entry's last use
//       scene.blend               a .blend archive, or
//       files/…                   a .zip unpacked
//
// An entry in use by a task is never evicted, even past the limit. One agent per dir.

/** Where in an entry a zip is unpacked. */
const ZIP_FILES = "files";

export type CachedArchiveRef = Omit<ClaimedTask["archive"], "id">;

/** Fetches the archive's bytes into `file`, verified against its sha256 (AgentClient.downloadArchive). */
export type ArchiveDownload = (archive: { hash: string; size: number }, file: string, signal?: AbortSignal) => Promise<void>;

interface Entry {
  hash: string;
  bytes: number;
  lastUsed: number;
  blendPath: string;
  kind: ArchiveKind;
}

interface EntryFile {
  kind: ArchiveKind;
  bytes: number;
  /** Relative to the entry's dir. */
  blendPath: string;
}

export interface CachedArchive {
  hash: string;
  /** The .blend Blender opens. */
  blendFile: string;
  /** The archive's own files (the .blend, or the zip's unpacked tree): all a sandboxed Blender may read. */
  dir: string;
  /** Ends this task's use: the entry may be evicted again. Call once. */
  release(): void;
}

export interface ArchiveCacheOptions {
  dir: string;
  maxBytes: number;
  download: ArchiveDownload;
  log?: (message: string) => void;
  now?: () => number;
}

export class ArchiveCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inUse = new Map<string, number>();
  private readonly fetching = new Map<string, Promise<Entry>>();
  private readonly archivesDir: string;
  private readonly tmpDir: string;
  private readonly now: () => number;

  constructor(private readonly options: ArchiveCacheOptions) {
    this.archivesDir = path.join(options.dir, "archives");
    this.tmpDir = path.join(options.dir, "tmp");
    this.now = options.now ?? Date.now;
  }

  /** Reads what a previous run left: finished entries stay, anything half-done goes. */
  async open(): Promise<void> {
    await fs.mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await fs.rm(this.tmpDir, { recursive: true, force: true });
    await fs.mkdir(this.tmpDir, { mode: 0o700 });
    await fs.mkdir(this.archivesDir, { recursive: true, mode: 0o700 });
    for (const hash of await fs.readdir(this.archivesDir)) {
      const dir = path.join(this.archivesDir, hash);
      const entry = await readEntry(dir, hash);
      if (entry) this.entries.set(hash, entry);
      else await fs.rm(dir, { recursive: true, force: true });
    }
    await this.evict();
  }

  /** The archive's .blend, from the cache or downloaded; held until `release()`. */
  async acquire(archive: CachedArchiveRef, signal?: AbortSignal): Promise<CachedArchive> {
    const { hash } = archive;
    this.hold(hash);
    let entry: Entry;
    try {
      entry = this.entries.get(hash) ?? (await this.fetch(archive, signal));
    } catch (error) {
      this.letGo(hash);
      throw error;
    }
    entry.lastUsed = this.now();
    const stamp = new Date(entry.lastUsed);
    await fs.utimes(path.join(this.archivesDir, hash, "entry.json"), stamp, stamp).catch(() => undefined);
    await this.evict();
    let released = false;
    return {
      hash,
      blendFile: path.join(this.archivesDir, hash, entry.blendPath),
      dir: path.join(this.archivesDir, hash, entry.kind === "zip" ? ZIP_FILES : ""),
      release: () => {
        if (released) return;
        released = true;
        this.letGo(hash);
        void this.evict().catch((error) => this.options.log?.(`Could not evict cached archives: ${(error as Error).message}`));
      },
    };
  }

  /** Bytes the finished entries take, and how many there are. */
  usage(): { bytes: number; entries: number } {
    let bytes = 0;
    for (const entry of this.entries.values()) bytes += entry.bytes;
    return { bytes, entries: this.entries.size };
  }

  has(hash: string): boolean {
    return this.entries.has(hash);
  }

  private hold(hash: string) {
    this.inUse.set(hash, (this.inUse.get(hash) ?? 0) + 1);
  }

  private letGo(hash: string) {
    const count = (this.inUse.get(hash) ?? 1) - 1;
    if (count > 0) this.inUse.set(hash, count);
    else this.inUse.delete(hash);
  }

  /** One download per hash at a time, however many tasks want it. */
  private fetch(archive: CachedArchiveRef, signal?: AbortSignal): Promise<Entry> {
    let pending = this.fetching.get(archive.hash);
    if (!pending) {
      pending = this.build(archive, signal).finally(() => this.fetching.delete(archive.hash));
      this.fetching.set(archive.hash, pending);
    }
    return pending;
  }

  private async build(archive: CachedArchiveRef, signal?: AbortSignal): Promise<Entry> {
    const work = path.join(this.tmpDir, `${archive.hash}-${randomUUID()}`);
    await fs.mkdir(work, { mode: 0o700 });
    try {
      const download = path.join(work, "download");
      await this.options.download({ hash: archive.hash, size: archive.size }, download, signal);
      const staged = path.join(work, "entry");
      await fs.mkdir(staged, { mode: 0o700 });
      const file =
        archive.kind === "zip" ? await this.unpack(archive, download, staged, signal) : await this.place(download, staged, archive.size);
      await fs.writeFile(path.join(staged, "entry.json"), JSON.stringify(file), { mode: 0o600 });
      const target = path.join(this.archivesDir, archive.hash);
      await fs.rm(target, { recursive: true, force: true });
      await fs.rename(staged, target);
      const entry: Entry = { hash: archive.hash, bytes: file.bytes, lastUsed: this.now(), blendPath: file.blendPath, kind: file.kind };
      this.entries.set(archive.hash, entry);
      this.options.log?.(`Cached archive ${archive.hash.slice(0, 12)} (${file.bytes} bytes).`);
      return entry;
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  private async place(download: string, staged: string, size: number): Promise<EntryFile> {
    await fs.rename(download, path.join(staged, "scene.blend"));
    return { kind: "blend", bytes: size, blendPath: "scene.blend" };
  }

  private async unpack(archive: CachedArchiveRef, download: string, staged: string, signal?: AbortSignal): Promise<EntryFile> {
    if (!archive.mainPath) throw new ArchiveRefused("The server named no main .blend for this zip; it cannot be rendered.");
    const { bytes, files } = await unpackZip(download, path.join(staged, ZIP_FILES), { maxBytes: this.options.maxBytes, signal });
    // Only a name that passed the entry checks can match, so the main path cannot escape either.
    const main = files.find((name) => name === normalizeZipPath(archive.mainPath!));
    if (!main) throw new ArchiveRefused(`The zip has no "${archive.mainPath}", the .blend the task names.`);
    await fs.rm(download, { force: true });
    return { kind: "zip", bytes, blendPath: path.join(ZIP_FILES, main) };
  }

  /** Least recently used first, until the entries fit; entries in use stay. */
  private async evict(): Promise<void> {
    let { bytes } = this.usage();
    if (bytes <= this.options.maxBytes) return;
    const candidates = [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of candidates) {
      if (bytes <= this.options.maxBytes) break;
      if (this.inUse.has(entry.hash) || this.fetching.has(entry.hash)) continue;
      this.entries.delete(entry.hash);
      bytes -= entry.bytes;
      await fs.rm(path.join(this.archivesDir, entry.hash), { recursive: true, force: true });
      this.options.log?.(`Evicted archive ${entry.hash.slice(0, 12)} from the cache (${entry.bytes} bytes).`);
    }
  }
}

async function readEntry(dir: string, hash: string): Promise<Entry | null> {
  if (!/^[0-9a-f]{64}$/.test(hash)) return null;
  try {
    const file = path.join(dir, "entry.json");
    const [text, stat] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
    const json = JSON.parse(text) as Partial<EntryFile>;
    if (typeof json.bytes !== "number" || typeof json.blendPath !== "string" || (json.kind !== "blend" && json.kind !== "zip")) return null;
    await fs.access(path.join(dir, json.blendPath));
    return { hash, bytes: json.bytes, lastUsed: stat.mtimeMs, blendPath: json.blendPath, kind: json.kind };
  } catch {
    return null;
  }
}
