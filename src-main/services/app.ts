import pkg from '../../package.json' with { type: 'json' };
import { deviceOffers, providerState } from '../engine/device';
import type { AppInfo } from '../contract/contract';

/** onnxruntime is imported lazily: a broken GPU library must not stop the app (or `tsuzuki info`) from starting. */
async function onnxruntimeInfo(): Promise<AppInfo['onnxruntime']> {
  try {
    const ort = await import('onnxruntime-node');
    const devices = await deviceOffers();
    const providers = devices.filter((d) => d.runnable).map((d) => d.device);
    return { version: ort.env.versions.node ?? null, providers, devices, webgpu: (await providerState('webgpu')).state, error: null };
  } catch (error) {
    return { version: null, providers: [], devices: [], webgpu: null, error: error instanceof Error ? error.message : String(error) };
  }
}

export async function appInfo(): Promise<AppInfo> {
  return {
    name: pkg.productName,
    version: pkg.version,
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    onnxruntime: await onnxruntimeInfo(),
  };
}
