// The rules that keep a zip's entries inside the folder they unpack into. Pure: the
// server checks them when an archive is uploaded (app/lib/archive-inspect.server.ts), and
// the agent again before it unpacks one (agent/archive-cache.ts), trusting no one.

/** What a zip entry says about itself, as read from its central directory record. */
export interface ZipEntryFacts {
  /** The name as stored, undecoded beyond UTF-8 / CP437. */
  rawName: string;
  externalFileAttributes: number;
  encrypted: boolean;
  compressionMethod: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** A path inside a zip as its checks compare it: forward slashes, no leading "./". */
export function normalizeZipPath(name: string): string {
  return name.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
}

export function isDirectoryEntry(name: string): boolean {
  return name.endsWith("/");
}

/**
 * Why an entry may not be unpacked (to finish the sentence `The zip entry "x" …`), or
 * null when it is a plain file or folder with a relative path that stays inside.
 */
export function zipEntryRefusal(entry: ZipEntryFacts): string | null {
  const name = normalizeZipPath(entry.rawName);
  if (name.includes("\0")) return "has a NUL character in its name; zip the files again.";
  if (name.startsWith("/") || /^[a-zA-Z]:/.test(name)) {
    return "has an absolute path; zip the files with paths relative to the project folder.";
  }
  if (name.split("/").includes("..")) {
    return "climbs out of its folder with \"..\"; zip the project folder from inside it, with relative paths.";
  }
  if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    return "is a symbolic link, which is not unpacked; zip the files themselves (without --symlinks).";
  }
  if (entry.encrypted) return "is encrypted; upload a zip without a password.";
  if (!isDirectoryEntry(name) && entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return `uses compression method ${entry.compressionMethod}; zip it with plain deflate (the default of zip tools).`;
  }
  return null;
}
