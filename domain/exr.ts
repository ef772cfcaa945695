// An OpenEXR frame's structure, checked before it is accepted: no EXR decoder comes with
// the server (sharp's libvips reads none), so instead of decoding the pixels the header,
// the chunk offset table and every chunk's own header are checked against each other and
// the file's size. A frame cut short, padded with garbage or with a table pointing
// anywhere is refused; what is left unchecked is the compressed pixel data itself.
// Pure: the caller brings a reader of the file's bytes.

import { cString } from "./image";

export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

const MAGIC = [0x76, 0x2f, 0x31, 0x01];
const TILED = 0x200;
const NON_IMAGE = 0x800;
const MULTIPART = 0x1000;
/** Scanlines per chunk of each compression (OpenEXR's own table); 10 is HTJ2K. */
const LINES_PER_CHUNK = [1, 1, 1, 16, 32, 16, 32, 32, 32, 256, 32];
const BYTES_PER_SAMPLE = [4, 2, 4]; // UINT, HALF, FLOAT
const MAX_SIDE = 1 << 16;
const HEADER_LIMIT = 1 << 20;
// 65 536 scanlines one by one, or a 16k × 16k frame in 32-pixel tiles, with room to spare.
const MAX_CHUNKS = 1 << 20;

interface Header {
  headerEnd: number;
  xMin: number;
  yMin: number;
  width: number;
  height: number;
  linesPerChunk: number;
  bytesPerPixel: number;
  tile: { x: number; y: number } | null;
}

/** Why this EXR file is not a whole, well-formed single-part image; null when it is. */
export async function exrStructureProblem(read: ReadBytes, fileSize: number): Promise<string | null> {
  const head = await read(0, Math.min(fileSize, HEADER_LIMIT));
  const header = parseHeader(head);
  if (typeof header === "string") return header;
  const chunks = chunkCount(header);
  if (chunks > MAX_CHUNKS) return `it has ${chunks} chunks; a frame has at most ${MAX_CHUNKS}`;
  const tableEnd = header.headerEnd + chunks * 8;
  if (tableEnd > fileSize) return `the file ends inside its chunk table (${chunks} chunks)`;
  const table = view(await read(header.headerEnd, chunks * 8));
  const headBytes = header.tile ? 20 : 8;
  for (let index = 0; index < chunks; index += 1) {
    const offset = Number(table.getBigUint64(index * 8, true));
    if (offset < tableEnd || offset + headBytes > fileSize) return `chunk ${index} points outside the file (offset ${offset} of ${fileSize} bytes)`;
    const chunk = view(await read(offset, headBytes));
    const problem = chunkProblem(header, index, chunk, offset, fileSize);
    if (problem) return problem;
  }
  return null;
}

function chunkCount(header: Header): number {
  if (header.tile) return Math.ceil(header.width / header.tile.x) * Math.ceil(header.height / header.tile.y);
  return Math.ceil(header.height / header.linesPerChunk);
}

function chunkProblem(header: Header, index: number, chunk: DataView, offset: number, fileSize: number): string | null {
  let pixels: number;
  let dataSize: number;
  if (header.tile) {
    const across = Math.ceil(header.width / header.tile.x);
    const [tileX, tileY, levelX, levelY] = [0, 4, 8, 12].map((at) => chunk.getInt32(at, true));
    if (tileX !== index % across || tileY !== Math.floor(index / across) || levelX !== 0 || levelY !== 0) {
      return `chunk ${index} is tile (${tileX}, ${tileY}) of level (${levelX}, ${levelY}), not the tile its place in the table says`;
    }
    pixels = header.tile.x * header.tile.y;
    dataSize = chunk.getInt32(16, true);
  } else {
    const y = chunk.getInt32(0, true);
    const expected = header.yMin + index * header.linesPerChunk;
    if (y !== expected) return `chunk ${index} starts at scanline ${y}, not ${expected}`;
    pixels = header.width * Math.min(header.linesPerChunk, header.height - index * header.linesPerChunk);
    dataSize = chunk.getInt32(4, true);
  }
  const rawSize = pixels * header.bytesPerPixel;
  // A chunk that compression would make larger is stored raw, so none is larger than raw.
  if (dataSize <= 0 || dataSize > rawSize) return `chunk ${index} says it holds ${dataSize} bytes, where ${rawSize} is the most it can`;
  const end = offset + (header.tile ? 20 : 8) + dataSize;
  if (end > fileSize) return `chunk ${index} runs past the end of the file (the frame is cut short)`;
  return null;
}

function parseHeader(bytes: Uint8Array): Header | string {
  if (bytes.length < 8 || !MAGIC.every((byte, index) => bytes[index] === byte)) return "it is not an OpenEXR file";
  const data = view(bytes);
  const flags = data.getUint32(4, true);
  if ((flags & 0xff) !== 2) return `it is OpenEXR version ${flags & 0xff}, not 2`;
  if (flags & (MULTIPART | NON_IMAGE)) return "it is a multi-part or deep OpenEXR file, which Blender does not write for a frame";
  const attributes = new Map<string, { type: string; at: number; size: number }>();
  let offset = 8;
  for (;;) {
    const name = cString(bytes, offset);
    if (name === null) return "its header is cut short or damaged";
    offset = name.end;
    if (name.text === "") break;
    const type = cString(bytes, offset);
    if (type === null || type.end + 4 > bytes.length) return "its header is cut short or damaged";
    const size = data.getInt32(type.end, true);
    const at = type.end + 4;
    if (size < 0 || at + size > bytes.length) return "its header is cut short or damaged";
    attributes.set(name.text, { type: type.text, at, size });
    offset = at + size;
  }
  const box = attributes.get("dataWindow");
  const compression = attributes.get("compression");
  const channels = attributes.get("channels");
  if (box?.type !== "box2i" || box.size !== 16 || compression?.type !== "compression" || channels?.type !== "chlist") {
    return "its header lacks a data window, a compression or channels";
  }
  const [xMin, yMin, xMax, yMax] = [0, 4, 8, 12].map((at) => data.getInt32(box.at + at, true));
  const width = xMax - xMin + 1;
  const height = yMax - yMin + 1;
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) return `its data window (${xMin}, ${yMin})–(${xMax}, ${yMax}) is not an image size`;
  const linesPerChunk = LINES_PER_CHUNK[bytes[compression.at]];
  if (linesPerChunk === undefined) return `its compression (${bytes[compression.at]}) is not one OpenEXR knows`;
  const bytesPerPixel = channelBytes(bytes, data, channels.at, channels.at + channels.size);
  if (bytesPerPixel === null) return "its channel list is damaged or empty";
  let tile: Header["tile"] = null;
  if (flags & TILED) {
    const tiles = attributes.get("tiles");
    if (tiles?.type !== "tiledesc" || tiles.size !== 9) return "it is tiled but has no tile description";
    const [x, y, mode] = [data.getUint32(tiles.at, true), data.getUint32(tiles.at + 4, true), bytes[tiles.at + 8] & 0x0f];
    if (mode !== 0) return "it is a mipmapped or ripmapped tiled file, which Blender does not write for a frame";
    if (x < 1 || y < 1 || x > MAX_SIDE || y > MAX_SIDE) return "its tile size is not a size";
    tile = { x, y };
  }
  return { headerEnd: offset, xMin, yMin, width, height, linesPerChunk, bytesPerPixel, tile };
}

// Each channel: name\0, pixel type (int32), pLinear and 3 reserved bytes, x and y sampling.
function channelBytes(bytes: Uint8Array, data: DataView, start: number, end: number): number | null {
  let total = 0;
  let offset = start;
  for (;;) {
    const name = cString(bytes, offset);
    if (name === null || name.end > end) return null;
    if (name.text === "") return total > 0 ? total : null;
    if (name.end + 16 > end) return null;
    const size = BYTES_PER_SAMPLE[data.getInt32(name.end, true)];
    if (size === undefined) return null;
    total += size;
    offset = name.end + 16;
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
