/**
 * A whole scanline OpenEXR file built byte by byte: uncompressed, one HALF channel, one
 * line per chunk, with its chunk offset table. Enough for the server's structure check
 * (domain/exr.ts) to accept, and for tests to damage in exact places.
 */
export function exrBytes(width: number, height: number): Buffer {
  const attribute = (name: string, type: string, value: Buffer) => {
    const size = Buffer.alloc(4);
    size.writeInt32LE(value.length);
    return Buffer.concat([Buffer.from(`${name}\0${type}\0`, "latin1"), size, value]);
  };
  const channel = Buffer.concat([Buffer.from("Y\0", "latin1"), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]), Buffer.from([0])]);
  const box = Buffer.alloc(16);
  [0, 0, width - 1, height - 1].forEach((value, index) => box.writeInt32LE(value, index * 4));
  const header = Buffer.concat([
    Buffer.from([0x76, 0x2f, 0x31, 0x01, 0x02, 0, 0, 0]),
    attribute("channels", "chlist", channel),
    attribute("compression", "compression", Buffer.from([0])),
    attribute("dataWindow", "box2i", box),
    attribute("displayWindow", "box2i", box),
    attribute("lineOrder", "lineOrder", Buffer.from([0])),
    Buffer.from([0]),
  ]);
  const lineBytes = width * 2;
  const table = Buffer.alloc(height * 8);
  const chunks: Buffer[] = [];
  let offset = header.length + table.length;
  for (let y = 0; y < height; y += 1) {
    table.writeBigUInt64LE(BigInt(offset), y * 8);
    const chunk = Buffer.alloc(8 + lineBytes);
    chunk.writeInt32LE(y, 0);
    chunk.writeInt32LE(lineBytes, 4);
    chunks.push(chunk);
    offset += chunk.length;
  }
  return Buffer.concat([header, table, ...chunks]);
}
