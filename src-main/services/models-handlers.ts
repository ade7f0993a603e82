/** The models requests of the contract over one ModelsService. */
import { usableProviders } from '../engine/device';
import type { Contract } from '../contract/contract';
import type { modelsRequests } from '../contract/models';
import type { Handlers } from '../ipc/router';
import { freeSpace } from '../util/disk';
import { HubClient, selectModelFiles } from '../model/hub/client';
import { readManifest } from '../model/format/manifest';
import type { ModelsService } from './models';
import type { Subscribers } from './subscribers';

type ModelsHandlers = Pick<Handlers<Contract>, keyof typeof modelsRequests>;

/** GPU execution providers that make fp16 the better download; otherwise int4 runs fastest on the CPU. */
const GPU_PROVIDERS = new Set(['cuda', 'dml', 'coreml', 'webgpu']);

async function gpuAvailable(): Promise<boolean> {
  try {
    return (await usableProviders()).some((name) => GPU_PROVIDERS.has(name));
  } catch {
    return false;
  }
}

export interface ModelsHandlerDeps {
  models: ModelsService;
  events: Subscribers<'models.job'>;
  /** The model generation uses now (see GenerationService's `model`). */
  inUse: () => Promise<{ id: string; dir: string } | null>;
  hub?: () => HubClient;
}

export function createModelsHandlers({ models, events: subscribers, inUse, hub = () => new HubClient() }: ModelsHandlerDeps): ModelsHandlers {
  return {
    'models.list': async (_input, ctx) => {
      subscribers.add(ctx);
      const current = await inUse();
      const positions = current && (await readManifest(current.dir).then((m) => m.architecture.nPositions, () => null));
      return { ...(await models.list()), inUse: current && { id: current.id, dir: current.dir, positions }, jobs: models.listJobs() };
    },
    'models.plan': async ({ repo, revision }, ctx) => {
      const client = hub();
      const snapshot = await client.snapshot(repo, revision, ctx.signal);
      const readIndex = async (path: string) => {
        const res = await client.http.request(client.resolveUrl(repo, snapshot.commit, path), { signal: ctx.signal });
        return res.body.text();
      };
      const wanted = new Set(await selectModelFiles(snapshot, readIndex));
      const files = snapshot.files.filter((f) => wanted.has(f.path)).map((f) => ({ path: f.path, size: f.size }));
      const gpu = await gpuAvailable();
      return {
        repo,
        commit: snapshot.commit,
        files,
        downloadBytes: files.reduce((sum, f) => sum + (f.size ?? 0), 0),
        freeBytes: await freeSpace(models.library.dir),
        recommendedPrecision: gpu ? 'fp16' : 'int4',
        gpu,
      };
    },
    'models.add': (input, ctx) => {
      subscribers.add(ctx);
      return { jobId: models.add(input).status.jobId };
    },
    'models.import': (input, ctx) => {
      subscribers.add(ctx);
      return { jobId: models.import(input).status.jobId };
    },
    'models.pause': ({ jobId }) => {
      models.pause(jobId);
      return null;
    },
    'models.resume': ({ jobId }) => {
      models.resume(jobId);
      return null;
    },
    'models.cancel': ({ jobId }) => {
      models.cancel(jobId);
      return null;
    },
    'models.setActive': ({ id, precision }) => models.setActive(id, precision),
    'models.remove': async ({ id, part, precision }) => {
      await models.remove(id, part, precision);
      return null;
    },
    'models.verify': ({ id }, ctx) => models.verify(id, ctx.signal),
  };
}
