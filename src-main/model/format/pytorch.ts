import { open } from 'node:fs/promises';
import { TsuzukiError } from '../../contract/errors';
import { ITEM_SIZE } from './dtype';
import { loadStateDictPickle } from './pickle';
import { elementCount, spanBytes, type StoredTensor } from './tensor-file';
import { readZipEntries, readZipEntry } from './zip';

/**
 * Reads a `torch.save`d state dict (PyTorch ≥ 1.6 zip format: `<prefix>/data.pkl` plus one uncompressed
 * entry `<prefix>/data/<key>` per storage) into tensor locations. Only the central directory and the pickle
 * are read; tensor values stay on disk.
 */
export async function readPytorchCheckpoint(file: string): Promise<Map<string, StoredTensor>> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const magic = Buffer.alloc(4);
    await handle.read(magic, 0, 4, 0);
    if (magic.readUInt32LE(0) !== 0x04034b50) {
      // Legacy torch.save (before 1.6, or _use_new_zipfile_serialization=False) is a bare pickle stream.
      if (magic[0] === 0x80) {
        throw new TsuzukiError(
          'unsupported',
          `${file} uses PyTorch's legacy (pre-1.6) serialization, which Tsuzuki does not read. Re-save it with a current PyTorch (torch.save(torch.load(path), path)) or convert it to model.safetensors.`,
        );
      }
      throw new TsuzukiError('corrupt_file', `${file} is not a PyTorch checkpoint (no zip header). Download it again.`);
    }

    const entries = await readZipEntries(handle, file, size);
    const pickleEntry = [...entries.values()].find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
    if (!pickleEntry) throw new TsuzukiError('corrupt_file', `${file} has no data.pkl entry. Download it again.`);
    const prefix = pickleEntry.name.slice(0, -'data.pkl'.length);

    const byteorder = entries.get(`${prefix}byteorder`);
    if (byteorder) {
      const order = (await readZipEntry(handle, file, byteorder)).toString('latin1');
      if (order !== 'little') throw new TsuzukiError('unsupported', `${file} was saved on a ${order}-endian machine; only little-endian checkpoints are supported.`);
    }

    const pickled = loadStateDictPickle(await readZipEntry(handle, file, pickleEntry), file);
    const tensors = new Map<string, StoredTensor>();
    for (const [name, t] of pickled) {
      const entry = entries.get(`${prefix}data/${t.storage.key}`);
      if (!entry) throw new TsuzukiError('corrupt_file', `${file} lacks the storage of tensor ${name}. Download it again.`);
      if (entry.method !== 0) {
        throw new TsuzukiError('unsupported', `${file}: the storage of ${name} is compressed; re-save the checkpoint with torch.save.`);
      }
      const item = ITEM_SIZE[t.storage.dtype];
      if (entry.size < t.storage.numel * item) {
        throw new TsuzukiError('corrupt_file', `${file}: the storage of ${name} is shorter than its ${t.storage.numel} elements. Download it again.`);
      }
      // Views never hold more elements than their storage unless elements repeat (stride 0, as expand() makes);
      // no weight is saved that way, and reading one would allocate from the shape alone.
      if (elementCount(t.shape) > t.storage.numel) {
        throw new TsuzukiError(
          'corrupt_file',
          `${file}: tensor ${name} (shape [${t.shape.join(', ')}]) has more elements than its ${t.storage.numel}-element storage. Download it again.`,
        );
      }
      const contiguous = t.strides.every((s, i) => t.shape[i] === 1 || s === t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const tensor: StoredTensor = {
        file,
        dtype: t.storage.dtype,
        shape: t.shape,
        byteOffset: entry.dataOffset + t.storageOffset * item,
        strides: contiguous ? null : t.strides,
      };
      if (t.storageOffset * item + spanBytes(tensor) > entry.size) {
        throw new TsuzukiError('corrupt_file', `${file}: tensor ${name} reaches past the end of its storage. Download it again.`);
      }
      tensors.set(name, tensor);
    }
    return tensors;
  } finally {
    await handle.close();
  }
}
