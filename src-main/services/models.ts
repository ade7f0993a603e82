/**
 * Models: what the UI and the CLI call to get, list, check, choose and delete models. Adding a model (from the hub
 * by repo id, or from a local folder) is a job: download or copy, then conversion in a worker, with one status
 * event per change so the UI can draw progress, pause, resume and cancel.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { convertInWorker } from '../model/convert/convert-job';
import type { ConvertProgress } from '../model/convert/convert';
import type { FreeSpaceProbe } from '../util/disk';
import { checkRepoId, type HubClientOptions } from '../model/hub/client';
import { downloadModel, SOURCE_MANIFEST, type DownloadHandle, type DownloadProgress } from '../model/hub/download';
import { checkModelFiles } from '../model/library/integrity';
import { ModelLibrary, modelIdFor, readSourceManifest, type ActiveModel, type InstalledModel, type RemovePart, type VerifyReport } from '../model/library/library';
import type { Manifest } from '../model/format/manifest';
import type { Precision } from '../model/convert/weights';
import { dataDir } from '../store/location';
import { toErrorInfo, TsuzukiError, type ErrorInfo } from '../contract/errors';

/** Converts a Hugging Face folder into a Tsuzuki folder (by default in the `convert` worker). */
export type Converter = (
  hfDir: string,
  outDir: string,
  options: {
    precision: Precision;
    /** By default the converter's (see `defaultBlockSize`). */
    blockSize?: number;
    /** Recorded in tsuzuki.json: the repo and commit the checkpoint came from. */
    source?: { repo: string; revision: string };
    onProgress?: (p: ConvertProgress) => void;
    signal?: AbortSignal;
  },
) => Promise<Manifest>;

export interface ModelsServiceOptions {
  /** Default `$TSUZUKI_HOME/models` or the platform's app data folder + `/models`. */
  modelsDir?: string;
  /**
   * Hub endpoint, token, proxy environment… (settings override HF_ENDPOINT / HF_TOKEN). A function is asked at
   * the start of each job, so a changed setting applies to the next download.
   */
  hub?: HubClientOptions | (() => HubClientOptions | Promise<HubClientOptions>);
  /** Hugging Face cache folders to reuse; default: the ones huggingface_hub uses. */
  hfCacheDirs?: string[];
  convert?: Converter;
  freeSpace?: FreeSpaceProbe;
  /** Receives every job status change (`models.job` event). */
  emit?: (event: 'models.job', status: ModelJobStatus) => void;
}

export interface AddModelInput {
  /** A hub repo id (`rinna/japanese-gpt-1b`). */
  repo: string;
  revision?: string;
  precision?: Precision;
  blockSize?: number;
  /** Make it the active model when done (default: only if no model is active yet). */
  activate?: boolean;
}

export interface ImportModelInput {
  /** A Hugging Face folder (converted afterwards) or a converted Tsuzuki folder. */
  path: string;
  id?: string;
  precision?: Precision;
  blockSize?: number;
  activate?: boolean;
}

export interface ModelJobStatus {
  jobId: string;
  modelId: string;
  repo: string | null;
  precision: Precision;
  state: 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
  stage: 'download' | 'import' | 'convert' | 'done';
  download: DownloadProgress | null;
  convert: ConvertProgress | null;
  error: ErrorInfo | null;
}

export interface ModelJob {
  status: ModelJobStatus;
  done: Promise<InstalledModel>;
}

interface RunningJob extends ModelJob {
  download: DownloadHandle | null;
  controller: AbortController;
}

const DEFAULT_PRECISION: Precision = 'int4';

function defaultModelsDir(): string {
  return join(dataDir(), 'models');
}

export class ModelsService {
  readonly library: ModelLibrary;
  private readonly jobs = new Map<string, RunningJob>();
  private readonly convert: Converter;

  constructor(private readonly options: ModelsServiceOptions = {}) {
    this.library = new ModelLibrary(options.modelsDir ?? defaultModelsDir(), options.freeSpace);
    this.convert = options.convert ?? convertInWorker;
  }

  async list(): Promise<{ dir: string; models: InstalledModel[]; active: ActiveModel | null }> {
    return { dir: this.library.dir, models: await this.library.list(), active: await this.library.active() };
  }

  get(id: string): Promise<InstalledModel> {
    return this.library.get(id);
  }

  active(): Promise<ActiveModel | null> {
    return this.library.active();
  }

  setActive(id: string, precision?: Precision): Promise<ActiveModel> {
    return this.library.setActive(id, precision);
  }

  verify(id: string, signal?: AbortSignal): Promise<VerifyReport> {
    return this.library.verify(id, { signal });
  }

  async remove(id: string, part: RemovePart = 'all', precision?: Precision): Promise<void> {
    if ([...this.jobs.values()].some((j) => j.status.modelId === id && (j.status.state === 'running' || j.status.state === 'paused'))) {
      throw new TsuzukiError('busy', `${id} is being added right now; cancel that first.`);
    }
    await this.library.remove(id, part, precision);
  }

  /** Jobs running or paused (e.g. for a window that opens while a download goes on). */
  listJobs(): ModelJobStatus[] {
    return [...this.jobs.values()].map((j) => ({ ...j.status }));
  }

  /** Downloads a repo into the library (reusing the HF cache and partial files), then converts it. */
  add(input: AddModelInput): ModelJob {
    checkRepoId(input.repo);
    const id = modelIdFor(input.repo);
    const precision = input.precision ?? DEFAULT_PRECISION;
    return this.start(id, input.repo, precision, async (job) => {
      const sourceDir = this.library.sourceDir(id);
      const revision = input.revision ?? 'main';
      const have = await readSourceManifest(sourceDir).catch(() => null);
      if (!have || have.repo !== input.repo || (have.revision !== revision && have.commit !== revision)) {
        // A different revision is replacing this one: it must not look complete until it is.
        await rm(join(sourceDir, SOURCE_MANIFEST), { force: true });
        this.update(job, { stage: 'download' });
        job.download = downloadModel({
          repo: input.repo,
          revision,
          dest: sourceDir,
          clientOptions: typeof this.options.hub === 'function' ? await this.options.hub() : this.options.hub,
          hfCacheDirs: this.options.hfCacheDirs,
          freeSpace: this.options.freeSpace,
          signal: job.controller.signal,
          onProgress: (p) => this.update(job, { download: p, state: p.phase === 'paused' ? 'paused' : 'running' }),
        });
        await job.download.done;
        job.download = null;
      }
      await this.convertSource(job, id, precision, input.blockSize);
      return this.finish(job, id, precision, input.activate);
    });
  }

  /** Imports a local folder (Hugging Face layout, converted afterwards; or a converted Tsuzuki model). */
  import(input: ImportModelInput): ModelJob {
    const precision = input.precision ?? DEFAULT_PRECISION;
    return this.start(input.id ?? '(import)', null, precision, async (job) => {
      this.update(job, { stage: 'import' });
      const model = await this.library.importFolder(input.path, { id: input.id, signal: job.controller.signal });
      this.update(job, { modelId: model.id, repo: model.repo });
      if (model.variants.length > 0 && !model.source) {
        const variant = model.variants[0]!;
        this.update(job, { precision: variant.precision });
        return this.finish(job, model.id, variant.precision, input.activate);
      }
      await this.convertSource(job, model.id, precision, input.blockSize);
      return this.finish(job, model.id, precision, input.activate);
    });
  }

  pause(jobId: string): void {
    const job = this.job(jobId);
    if (!job.download) throw new TsuzukiError('unsupported', 'Only a download can be paused; a conversion can be cancelled.');
    job.download.pause();
  }

  resume(jobId: string): void {
    const job = this.job(jobId);
    job.download?.resume();
  }

  /** Stops a job: partial downloads and half-converted folders are removed. */
  cancel(jobId: string): void {
    const job = this.job(jobId);
    job.download?.cancel();
    job.controller.abort(new TsuzukiError('cancelled', `Adding ${job.status.modelId} was cancelled.`));
  }

  private start(modelId: string, repo: string | null, precision: Precision, body: (job: RunningJob) => Promise<InstalledModel>): ModelJob {
    // Two jobs writing the same partial files would corrupt each other.
    const busy = [...this.jobs.values()].find((j) => j.status.modelId === modelId && (j.status.state === 'running' || j.status.state === 'paused'));
    if (busy) throw new TsuzukiError('busy', `${modelId} is already being added (job ${busy.status.jobId}).`);
    const job: RunningJob = {
      status: { jobId: randomUUID(), modelId, repo, precision, state: 'running', stage: 'download', download: null, convert: null, error: null },
      done: Promise.resolve(null as unknown as InstalledModel),
      download: null,
      controller: new AbortController(),
    };
    this.jobs.set(job.status.jobId, job);
    job.done = (async () => {
      await Promise.resolve();
      try {
        return await body(job);
      } catch (error) {
        const cancelled = job.controller.signal.aborted || (error instanceof TsuzukiError && error.code === 'cancelled');
        const info = toErrorInfo(error);
        this.update(job, { state: cancelled ? 'cancelled' : 'failed', error: cancelled ? { code: 'cancelled', message: info.message } : info });
        throw error;
      } finally {
        job.download = null;
        // Its last event went out: a finished job is forgotten.
        this.jobs.delete(job.status.jobId);
      }
    })();
    job.done.catch(() => undefined);
    return job;
  }

  private async convertSource(job: RunningJob, id: string, precision: Precision, blockSize: number | undefined): Promise<void> {
    job.controller.signal.throwIfAborted();
    const model = await this.library.get(id);
    if (model.variants.some((v) => v.precision === precision)) return;
    // A folder that is not a listed variant is an older version's conversion (or an unreadable one): replace it.
    await rm(this.library.variantDir(id, precision), { recursive: true, force: true });
    this.update(job, { stage: 'convert' });
    const origin = await readSourceManifest(this.library.sourceDir(id));
    const dir = this.library.variantDir(id, precision);
    const manifest = await this.convert(this.library.sourceDir(id), dir, {
      precision,
      ...(blockSize !== undefined ? { blockSize } : {}),
      ...(origin.repo && origin.commit ? { source: { repo: origin.repo, revision: origin.commit } } : {}),
      signal: job.controller.signal,
      onProgress: (p) => this.update(job, { convert: p }),
    });
    // Hashed here, while the job shows its progress, rather than on the first load, which would wait for it.
    const { problem } = await checkModelFiles(dir, manifest, job.controller.signal);
    if (problem) throw new TsuzukiError('corrupt_file', `The conversion into ${dir} does not match its own manifest (${problem}). Add the model again.`);
  }

  private async finish(job: RunningJob, id: string, precision: Precision, activate: boolean | undefined): Promise<InstalledModel> {
    if (activate ?? !(await this.library.active())) await this.library.setActive(id, precision);
    const model = await this.library.get(id);
    this.update(job, { stage: 'done', state: 'done' });
    return model;
  }

  private job(jobId: string): RunningJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new TsuzukiError('not_found', `No model job ${jobId}.`);
    return job;
  }

  private update(job: RunningJob, patch: Partial<ModelJobStatus>): void {
    Object.assign(job.status, patch);
    this.options.emit?.('models.job', { ...job.status });
  }
}
