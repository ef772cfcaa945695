import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import yauzl from "yauzl";

// Test files built in code, byte by byte, so each bad input is exactly what it claims.

export type Compression = "none" | "gzip" | "zstd";

/** A small .blend: a legacy header (`BLENDER-v304`) and some file-block-like bytes. */
export function blendBytes({
  version = "304",
  compression = "none",
  bodyBytes = 4096,
}: { version?: string; compression?: Compression; bodyBytes?: number } = {}): Buffer {
  const body = Buffer.alloc(bodyBytes);
  for (let index = 0; index < body.length; index += 1) body[index] = (index * 31 + 7) % 251;
  const plain = Buffer.concat([Buffer.from(`BLENDER-v${version}REND`, "latin1"), body, Buffer.from("ENDB")]);
  if (compression === "gzip") return gzipSync(plain);
  if (compression === "zstd") return zstdRawFrame(plain);
  return plain;
}

/**
 * A zstd frame of Raw_Blocks (RFC 8878 §3.1.1): no compression, but a real frame that any
 * zstd decoder reads, so the tests need no zstd binary.
 */
export function zstdRawFrame(content: Buffer): Buffer {
  const MAX_BLOCK = 128 * 1024;
  // Frame_Header_Descriptor 0: no content size, not single-segment, no checksum, no
  // dictionary; Window_Descriptor 0x50: a 1 MiB window.
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50])];
  let offset = 0;
  do {
    const block = content.subarray(offset, offset + MAX_BLOCK);
    offset += block.length;
    const last = offset >= content.length ? 1 : 0;
    const header = (block.length << 3) | (0 << 1) | last; // Block_Type 0: Raw_Block
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
  } while (offset < content.length);
  return Buffer.concat(parts);
}

export interface ZipEntrySpec {
  name: string;
  data?: Buffer;
  method?: "store" | "deflate";
  /** Raw external attributes, e.g. a unix mode in the high 16 bits. */
  externalAttributes?: number;
  /** Sets the "encrypted" flag (the data is not really encrypted). */
  encrypted?: boolean;
  /** Lies about the uncompressed size, in both headers. */
  declaredSize?: number;
}

/** Unix mode bits for the external attributes of a zip entry. */
export const unixMode = (mode: number) => (mode << 16) >>> 0;
export const SYMLINK_MODE = 0o120777;

/** A zip with exactly these entries: local headers, data, central directory, end record. */
export function zipBytes(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method === "deflate" ? 8 : 0;
    const stored = method === 8 ? deflateRawSync(data) : data;
    const name = Buffer.from(entry.name, "utf8");
    const flags = 0x0800 | (entry.encrypted ? 1 : 0);
    const crc = crc32(data);
    const size = entry.declaredSize ?? data.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix, so the mode bits mean something
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(entry.externalAttributes ?? unixMode(0o100644), 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export interface UnzippedEntry {
  name: string;
  /** The compression method as stored: 0 stored, 8 deflated. */
  method: number;
  data: Buffer;
}

/** The entries of a zip, read back with yauzl in their order: name, compression method and bytes. */
export async function unzip(bytes: Buffer): Promise<UnzippedEntry[]> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const entries: UnzippedEntry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", resolve);
    zip.on("entry", (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          entries.push({ name: entry.fileName, method: entry.compressionMethod, data: Buffer.concat(chunks) });
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return entries;
}
