import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { TsuzukiError } from '../../contract/errors';

/**
 * A minimal zip central-directory reader (zip64 included), written by hand rather than taken from a library:
 * PyTorch stores tensor storages uncompressed, and the converter needs each entry's absolute data offset to
 * read tensors straight into their buffers by position. The zip libraries at hand either load the whole
 * archive (adm-zip), or only hand out streams (yauzl, unzipper) without exposing that offset.
 */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute offset of the entry's (possibly compressed) bytes. */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;
/**
 * Bounds on what is read whole: a GPT-2 state dict has one entry per tensor (a few hundred) and a pickle of tens of
 * kilobytes, so these leave ample room while a crafted size (or a deflate bomb) cannot allocate gigabytes.
 */
const MAX_CENTRAL_DIRECTORY = 64 << 20;
const MAX_WHOLE_ENTRY = 64 << 20;

export async function readZipEntries(handle: FileHandle, file: string, fileSize: number): Promise<Map<string, ZipEntry>> {
  const corrupt = (why: string): TsuzukiError =>
    new TsuzukiError('corrupt_file', `${file} is a damaged zip archive (${why}). Download it again.`);
  const read = async (position: number, length: number): Promise<Buffer> => {
    if (position < 0 || position + length > fileSize) throw corrupt(`a record at byte ${position} lies outside the file; it is probably truncated`);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    if (bytesRead !== length) throw corrupt('short read');
    return buf;
  };

  // The end-of-central-directory record sits in the last 22 bytes plus an optional comment of up to 64 KiB.
  const tailLength = Math.min(fileSize, 22 + 0xffff);
  const tail = await read(fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end-of-central-directory record; the file is truncated or not a zip');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  const eocdPosition = fileSize - tailLength + eocd;

  if (eocdPosition >= 20) {
    const locator = await read(eocdPosition - 20, 20);
    if (locator.readUInt32LE(0) === ZIP64_LOCATOR) {
      const record = await read(Number(locator.readBigUInt64LE(8)), 56);
      if (record.readUInt32LE(0) !== ZIP64_EOCD) throw corrupt('bad zip64 end record');
      count = Number(record.readBigUInt64LE(32));
      cdSize = Number(record.readBigUInt64LE(40));
      cdOffset = Number(record.readBigUInt64LE(48));
    }
  }

  if (cdSize > MAX_CENTRAL_DIRECTORY) throw corrupt(`its central directory claims ${cdSize} bytes`);
  const cd = await read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  /** Each entry's bytes, local header included: no two may share any, or one storage could be read as another. */
  const spans: { name: string; begin: number; end: number }[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw corrupt('bad central directory entry');
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLength + extraLength > cd.length) throw corrupt('central directory entry runs past its end');
    const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
    // Zip64 sizes/offset live in extra field 0x0001, present only for the values saturated at 0xffffffff.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const length = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + length) throw corrupt(`zip64 field of ${name} is too short`);
          const v = Number(cd.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = next();
        if (compressedSize === U32_MAX) compressedSize = next();
        if (localOffset === U32_MAX) localOffset = next();
      }
      e += 4 + length;
    }
    if (flags & 0x1) throw new TsuzukiError('unsupported', `${file}: entry ${name} is encrypted; Tsuzuki cannot read it.`);

    const local = await read(localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL) throw corrupt(`bad local header for ${name}`);
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > fileSize) {
      throw new TsuzukiError(
        'corrupt_file',
        `${file} is truncated: entry ${name} ends at byte ${dataOffset + compressedSize} but the file has ${fileSize} bytes. Download it again.`,
      );
    }
    // A stored entry's size is its byte count; a larger one would let a tensor read past the entry.
    if (method === 0 && size !== compressedSize) throw corrupt(`entry ${name} claims ${size} bytes but stores ${compressedSize}`);
    if (entries.has(name)) throw corrupt(`entry ${name} appears twice`);
    entries.set(name, { name, method, compressedSize, size, dataOffset });
    spans.push({ name, begin: localOffset, end: dataOffset + compressedSize });
    p += 46 + nameLength + extraLength + commentLength;
  }
  spans.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]!.begin < spans[i - 1]!.end) throw corrupt(`entries ${spans[i - 1]!.name} and ${spans[i]!.name} overlap`);
  }
  return entries;
}

/** Reads a small entry whole (the pickle, the byte-order marker), inflating it if it was deflated. */
export async function readZipEntry(handle: FileHandle, file: string, entry: ZipEntry): Promise<Buffer> {
  const corrupt = (why: string, cause?: unknown): TsuzukiError =>
    new TsuzukiError('corrupt_file', `${file}: entry ${entry.name} ${why}. Download it again.`, { cause });
  if (entry.size > MAX_WHOLE_ENTRY || entry.compressedSize > MAX_WHOLE_ENTRY) {
    throw corrupt(`claims ${Math.max(entry.size, entry.compressedSize)} bytes, more than such an entry ever holds (${MAX_WHOLE_ENTRY})`);
  }
  const raw = Buffer.alloc(entry.compressedSize);
  const { bytesRead } = await handle.read(raw, 0, raw.length, entry.dataOffset);
  if (bytesRead !== raw.length) {
    throw new TsuzukiError('corrupt_file', `${file} is truncated inside ${entry.name}. Download it again.`);
  }
  if (entry.method === 0) return raw;
  if (entry.method === 8) {
    let inflated: Buffer;
    try {
      // Never more than the declared size, so a deflate bomb stops at the first byte beyond it.
      inflated = inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (cause) {
      throw corrupt(`does not inflate to its declared ${entry.size} bytes (${(cause as Error).message})`, cause);
    }
    if (inflated.length !== entry.size) throw corrupt(`inflates to ${inflated.length} bytes, not its declared ${entry.size}`);
    return inflated;
  }
  throw new TsuzukiError('unsupported', `${file}: entry ${entry.name} uses zip compression method ${entry.method}; re-save the checkpoint with torch.save.`);
}
