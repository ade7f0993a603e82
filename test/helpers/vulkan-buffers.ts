/**
 * Counts the GPU buffers a WebGPU session creates. Neither onnxruntime's WebGPU provider nor Dawn under it counts or
 * logs its buffers, but on Vulkan (lavapipe on the CI machines) each WebGPU buffer is one `vkCreateBuffer`: a test
 * layer (vulkan-buffer-layer.c, compiled here once per process) writes one line per call to a log file. Dawn creates
 * its Vulkan instance with the first WebGPU session, so the layer is enabled through the environment of a CHILD
 * process started with `env`; `records()` then reads what that child's buffers were.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** VK_BUFFER_USAGE_STORAGE_BUFFER_BIT: the buffers that hold a session's tensors. */
export const VK_BUFFER_USAGE_STORAGE = 0x20;

export interface BufferRecord {
  kind: 'create' | 'destroy';
  /** Bytes, and the Vulkan usage bits; a destroy record repeats its buffer's. */
  size: number;
  usage: number;
}

export type VulkanBufferLog =
  | { skip: string }
  | {
      /** To add to a child's environment (`{ ...process.env, ...env }`): it loads the layer and names the log. */
      env: Record<string, string>;
      /** The buffers created and destroyed so far, in order. */
      records(): Promise<BufferRecord[]>;
    };

const LAYER = 'VK_LAYER_TSUZUKI_buffer_log';
const source = fileURLToPath(new URL('./vulkan-buffer-layer.c', import.meta.url));

let built: Promise<{ dir: string } | { skip: string }> | null = null;

/** A fresh log (one per child process), with the layer that writes it. */
export async function vulkanBufferLog(): Promise<VulkanBufferLog> {
  built ??= build();
  const layer = await built;
  if ('skip' in layer) return layer;
  const log = join(layer.dir, `buffers-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  return {
    // VK_LAYER_PATH and VK_INSTANCE_LAYERS are read by every Vulkan loader (the newer VK_ADD_LAYER_PATH and
    // VK_LOADER_LAYERS_ENABLE only from 1.3.234 on); the path also keeps the child's explicit layers to this one.
    env: { VK_LAYER_PATH: layer.dir, VK_INSTANCE_LAYERS: LAYER, TSUZUKI_VK_BUFFER_LOG: log },
    records: () => readBufferLog(log),
  };
}

/** The records in the log at `path` (none before the first buffer is made). */
export async function readBufferLog(path: string): Promise<BufferRecord[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  // Handles are reused once destroyed: each destroy matches the latest create of its handle.
  const live = new Map<string, { size: number; usage: number }>();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line): BufferRecord => {
      const [kind, handle, size, usage] = line.split(' ');
      if (kind === 'create' && size && usage) {
        const buffer = { size: Number(size), usage: parseInt(usage, 16) };
        live.set(handle!, buffer);
        return { kind, ...buffer };
      }
      const buffer = kind === 'destroy' && live.get(handle!);
      if (!buffer) throw new Error(`unexpected line in the Vulkan buffer log ${path}: ${line}`);
      live.delete(handle!);
      return { kind: 'destroy', ...buffer };
    });
}

/** Compiles the layer and writes its manifest into a temp folder removed when this process exits. */
async function build(): Promise<{ dir: string } | { skip: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-vk-layer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const library = join(dir, 'libtsuzuki_buffer_log.so');
  try {
    await promisify(execFile)('cc', ['-shared', '-fPIC', '-O1', '-o', library, source, '-lpthread']);
  } catch (error) {
    const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
    if (code === 'ENOENT') return { skip: 'no C compiler (cc) to build the Vulkan buffer-log layer' };
    if (/vulkan\/\w+\.h/.test(stderr ?? '') && /No such file/.test(stderr ?? '')) {
      return { skip: 'no Vulkan headers to build the buffer-log layer (Debian: apt-get install libvulkan-dev)' };
    }
    return { skip: `the Vulkan buffer-log layer did not compile: ${(stderr ?? String(error)).trim().slice(0, 500)}` };
  }
  const manifest = {
    file_format_version: '1.1.2',
    layer: {
      name: LAYER,
      type: 'GLOBAL',
      library_path: library,
      api_version: '1.3.0',
      implementation_version: '1',
      description: 'Tsuzuki tests: logs vkCreateBuffer and vkDestroyBuffer',
    },
  };
  await writeFile(join(dir, 'tsuzuki_buffer_log.json'), JSON.stringify(manifest));
  return { dir };
}
