/**
 * The model library: a folder of installed models, one folder each.
 *
 *   <models>/library.json                 { active: { id, precision } | null }
 *   <models>/<id>/source/                 the Hugging Face files + tsuzuki-source.json (repo, commit, checksums)
 *   <models>/<id>/<precision>/            a converted model (tsuzuki.json, model.onnx, …), one per precision
 *
 * `<id>` is the repo id with `/` as `--` (rinna--japanese-gpt-1b). A folder only counts once its manifest exists,
 * and manifests are written last, so an interrupted download or conversion never shows up as installed.
 */
import { copyFile, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { TsuzukiError } from '../../contract/errors';
import { fileProblem, hashFile, type Digest } from '../format/checksum';
import { freeSpace as defaultFreeSpace, formatBytes, type FreeSpaceProbe } from '../../util/disk';
import { selectModelFiles, type RepoSnapshot } from '../hub/client';
import { SOURCE_MANIFEST, sourceManifestSchema, type SourceManifest } from '../hub/download';
import { checkModelFiles, fileInsideProblem } from './integrity';
import { MANIFEST_FILE, readManifest, VERIFIED_FILE } from '../format/manifest';
import { PRECISIONS, type Precision } from '../convert/weights';

const LIBRARY_FILE = 'library.json';
const SOURCE_DIR = 'source';
const ID = /^[A-Za-z0-9][\w.-]*$/;

const libraryStateSchema = z.object({
  active: z.object({ id: z.string(), precision: z.enum(PRECISIONS as [Precision, ...Precision[]]) }).nullable(),
});
type LibraryState = z.infer<typeof libraryStateSchema>;

interface InstalledSource {
  dir: string;
  repo: string | null;
  revision: string | null;
  commit: string | null;
  bytes: number;
  files: string[];
}

interface InstalledVariant {
  precision: Precision;
  dir: string;
  bytes: number;
  blockSize: number | null;
  createdAt: string;
}

export interface InstalledModel {
  id: string;
  dir: string;
  repo: string | null;
  source: InstalledSource | null;
  variants: InstalledVariant[];
  /** The precision that is the active model, when this model is the active one. */
  active: Precision | null;
  /** An unfinished download (paused, interrupted, failed): adding the model again resumes it. */
  pending: { bytes: number } | null;
}

export interface ActiveModel {
  id: string;
  precision: Precision;
  /** The converted folder to load. */
  dir: string;
}

export interface VerifyReport {
  id: string;
  ok: boolean;
  files: Array<{ part: 'source' | Precision; path: string; ok: boolean; problem: string | null }>;
}

export type RemovePart = 'source' | 'converted' | 'all';

/** `rinna/japanese-gpt-1b` → `rinna--japanese-gpt-1b`. */
export function modelIdFor(repo: string): string {
  return repo.replaceAll('/', '--');
}

export class ModelLibrary {
  readonly dir: string;

  constructor(dir: string, private readonly probeFreeSpace: FreeSpaceProbe = defaultFreeSpace) {
    this.dir = resolve(dir);
  }

  modelDir(id: string): string {
    checkId(id);
    return join(this.dir, id);
  }

  sourceDir(id: string): string {
    return join(this.modelDir(id), SOURCE_DIR);
  }

  variantDir(id: string, precision: Precision): string {
    return join(this.modelDir(id), precision);
  }

  async list(): Promise<InstalledModel[]> {
    const names = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const state = await this.state();
    const models: InstalledModel[] = [];
    for (const entry of names) {
      if (!entry.isDirectory() || !ID.test(entry.name)) continue;
      const model = await this.read(entry.name, state);
      if (model.source || model.variants.length > 0 || model.pending) models.push(model);
    }
    return models.sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<InstalledModel> {
    const model = await this.read(id, await this.state());
    if (!model.source && model.variants.length === 0 && !model.pending) {
      throw new TsuzukiError('not_found', `No installed model "${id}" in ${this.dir}. \`tsuzuki models list\` shows the installed ones.`);
    }
    return model;
  }

  /** The converted model the app uses; null when none was chosen or it was removed. */
  async active(): Promise<ActiveModel | null> {
    const { active } = await this.state();
    if (!active) return null;
    const dir = this.variantDir(active.id, active.precision);
    const ok = await stat(join(dir, MANIFEST_FILE)).then(() => true, () => false);
    return ok ? { ...active, dir } : null;
  }

  /** Makes a converted model the active one (the only converted precision when `precision` is not given). */
  async setActive(id: string, precision?: Precision): Promise<ActiveModel> {
    const model = await this.get(id);
    const variant = precision ? model.variants.find((v) => v.precision === precision) : model.variants.length === 1 ? model.variants[0] : undefined;
    if (!variant) {
      const have = model.variants.map((v) => v.precision).join(', ') || 'none';
      throw new TsuzukiError(
        model.variants.length === 0 ? 'not_found' : 'invalid_argument',
        `${id} has ${precision ? `no ${precision} conversion` : 'several conversions'} (converted: ${have}). ${model.variants.length === 0 ? 'Convert it first.' : 'Name the precision.'}`,
      );
    }
    await this.writeState({ active: { id, precision: variant.precision } });
    return { id, precision: variant.precision, dir: variant.dir };
  }

  /**
   * Hashes every file again and compares with the manifests (source: the hub's checksums; converted: tsuzuki.json).
   * A damaged converted model also loses its record of verified files, so that loading it hashes and refuses it.
   */
  async verify(id: string, options: { signal?: AbortSignal } = {}): Promise<VerifyReport> {
    const model = await this.get(id);
    const files: VerifyReport['files'] = [];
    const check = async (part: VerifyReport['files'][number]['part'], dir: string, path: string, expected: Digest, size: number) => {
      const problem = await fileProblem(join(dir, path), expected, size, options.signal);
      files.push({ part, path, ok: problem === null, problem });
      return problem === null;
    };
    if (model.source) {
      const manifest = await readSourceManifest(model.source.dir);
      for (const f of manifest.files) await check('source', model.source.dir, f.path, { algorithm: f.algorithm, value: f.digest }, f.size);
    }
    for (const v of model.variants) {
      const manifest = await readManifest(v.dir);
      let ok = true;
      for (const [path, f] of Object.entries(manifest.files.outputs)) ok = (await check(v.precision, v.dir, path, { algorithm: 'sha256', value: f.sha256 }, f.size)) && ok;
      if (!ok) await rm(join(v.dir, VERIFIED_FILE), { force: true });
    }
    return { id, ok: files.every((f) => f.ok), files };
  }

  /** Deletes the source files, the converted folders (all, or one precision), or the whole model. */
  async remove(id: string, part: RemovePart = 'all', precision?: Precision): Promise<void> {
    const model = await this.get(id);
    const state = await this.state();
    if (part === 'all') {
      await rm(model.dir, { recursive: true, force: true });
    } else if (part === 'source') {
      if (!model.source && !model.pending) throw new TsuzukiError('not_found', `${id} has no source files to remove.`);
      await this.discard(id, this.sourceDir(id));
    } else {
      const doomed = model.variants.filter((v) => !precision || v.precision === precision);
      if (doomed.length === 0) throw new TsuzukiError('not_found', `${id} has no ${precision ?? ''} converted model to remove.`.replace('  ', ' '));
      for (const v of doomed) await this.discard(id, v.dir);
    }
    if (state.active?.id === id && !(await this.active())) await this.writeState({ active: null });
  }

  /**
   * Imports a local folder: a Hugging Face checkpoint (config.json, spiece.model, weights) or an already converted
   * Tsuzuki model (tsuzuki.json). Files are copied (the original stays as it is) and verified.
   */
  async importFolder(path: string, options: { id?: string; signal?: AbortSignal } = {}): Promise<InstalledModel> {
    const from = resolve(path);
    const names = await readdir(from).catch((error: unknown) => {
      throw new TsuzukiError('not_found', `Cannot read the folder ${from}: ${(error as Error).message}`);
    });
    if (names.includes(MANIFEST_FILE)) return this.importConverted(from, options);
    if (names.includes('config.json')) return this.importSource(from, names, options);
    throw new TsuzukiError('invalid_argument', `${from} is neither a Hugging Face checkpoint (no config.json) nor a converted Tsuzuki model (no ${MANIFEST_FILE}).`);
  }

  private async importConverted(from: string, options: { id?: string; signal?: AbortSignal }): Promise<InstalledModel> {
    const manifest = await readManifest(from);
    const id = options.id ?? (manifest.source.repo ? modelIdFor(manifest.source.repo) : safeId(basename(from)));
    const target = this.variantDir(id, manifest.precision);
    if (await exists(join(target, MANIFEST_FILE))) {
      throw new TsuzukiError('busy', `${id} already has a ${manifest.precision} model. Remove it first (\`tsuzuki models remove ${id} --converted\`).`);
    }
    await this.copyInto(from, target, [...Object.keys(manifest.files.outputs), MANIFEST_FILE], from, options.signal);
    // Hashed once here; the first load finds them recorded as verified.
    const { problem } = await checkModelFiles(target, manifest, options.signal);
    if (problem) {
      await this.discard(id, target);
      throw new TsuzukiError('corrupt_file', `${from} does not match its ${MANIFEST_FILE} (${problem}). Convert the model again.`);
    }
    return this.get(id);
  }

  private async importSource(from: string, names: string[], options: { id?: string; signal?: AbortSignal }): Promise<InstalledModel> {
    const existing = names.includes(SOURCE_MANIFEST) ? await readSourceManifest(from) : null;
    const origin = existing ? { repo: existing.repo, revision: existing.revision, commit: existing.commit } : hfCacheOrigin(from);
    const listing: RepoSnapshot = {
      repo: origin.repo ?? basename(from),
      revision: origin.revision ?? 'local',
      commit: origin.commit ?? '',
      files: names.map((n) => ({ path: n, size: null, digest: null })),
    };
    const wanted = await selectModelFiles(listing, (p) => readFile(join(from, p), 'utf8'));
    const id = options.id ?? (origin.repo ? modelIdFor(origin.repo) : safeId(basename(from)));
    const target = this.sourceDir(id);
    if (await exists(join(target, SOURCE_MANIFEST))) {
      throw new TsuzukiError('busy', `${id} already has source files. Remove them first (\`tsuzuki models remove ${id} --source\`).`);
    }
    // A Hugging Face cache's snapshot entries are links into the repo's blobs/ folder, two levels up.
    const within = hfCacheOrigin(from).repo ? dirname(dirname(from)) : from;
    await this.copyInto(from, target, wanted, within, options.signal);
    const files: SourceManifest['files'] = [];
    for (const path of wanted) {
      const known = existing?.files.find((f) => f.path === path);
      const { hex, size } = await hashFile(join(target, path), known?.algorithm ?? 'sha256', { signal: options.signal });
      if (known && (known.digest !== hex || known.size !== size)) {
        await this.discard(id, target);
        throw new TsuzukiError('corrupt_file', `${join(from, path)} does not match the checksum in ${SOURCE_MANIFEST}. Download it again.`);
      }
      files.push({ path, size, algorithm: known?.algorithm ?? 'sha256', digest: hex });
    }
    const manifest: SourceManifest = {
      repo: origin.repo,
      revision: origin.revision ?? 'local',
      commit: origin.commit ?? '',
      endpoint: existing?.endpoint ?? null,
      files,
      completedAt: new Date().toISOString(),
    };
    await writeFile(join(target, `${SOURCE_MANIFEST}.partial`), JSON.stringify(manifest, null, 2) + '\n');
    await rename(join(target, `${SOURCE_MANIFEST}.partial`), join(target, SOURCE_MANIFEST));
    return this.get(id);
  }

  /**
   * Copies files into a temp folder beside `target`, then renames it into place (after checking disk space). Each
   * must be a file whose real place is inside the folder `within`: a link that leads elsewhere is refused.
   */
  private async copyInto(from: string, target: string, files: string[], within: string, signal?: AbortSignal): Promise<void> {
    const root = await realpath(within);
    let need = 0;
    for (const f of files) {
      const problem = await fileInsideProblem(root, join(from, f));
      if (problem) throw new TsuzukiError('corrupt_file', `${join(from, f)} cannot be imported: ${problem}. Import a folder that holds the model's own files.`);
      need += (await stat(join(from, f))).size;
    }
    await mkdir(this.dir, { recursive: true });
    const free = await this.probeFreeSpace(this.dir);
    if (free < need) {
      throw new TsuzukiError('disk_full', `Not enough disk space in ${this.dir}: importing needs ${formatBytes(need)} but only ${formatBytes(free)} is free.`);
    }
    const temp = `${target}.importing`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    try {
      for (const f of files) {
        signal?.throwIfAborted();
        await copyFile(join(from, f), join(temp, f));
      }
      await rm(target, { recursive: true, force: true });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes a failed import, and the model folder too when nothing else is in it. */
  private async discard(id: string, target: string): Promise<void> {
    await rm(target, { recursive: true, force: true });
    const left = await readdir(this.modelDir(id)).catch(() => null);
    if (left && left.length === 0) await rm(this.modelDir(id), { recursive: true, force: true });
  }

  private async read(id: string, state: LibraryState): Promise<InstalledModel> {
    const dir = this.modelDir(id);
    let source: InstalledSource | null = null;
    const sourceDir = join(dir, SOURCE_DIR);
    const sm = await readSourceManifest(sourceDir).catch(() => null);
    if (sm) {
      source = {
        dir: sourceDir,
        repo: sm.repo,
        revision: sm.revision,
        commit: sm.commit || null,
        bytes: sm.files.reduce((n, f) => n + f.size, 0),
        files: sm.files.map((f) => f.path),
      };
    }
    const variants: InstalledVariant[] = [];
    let repo = source?.repo ?? null;
    for (const precision of PRECISIONS) {
      const vdir = join(dir, precision);
      const manifest = await readManifest(vdir).catch(() => null);
      if (!manifest) continue;
      repo ??= manifest.source.repo;
      variants.push({
        precision: manifest.precision,
        dir: vdir,
        bytes: Object.values(manifest.files.outputs).reduce((n, f) => n + f.size, 0),
        blockSize: manifest.blockSize,
        createdAt: manifest.createdAt,
      });
    }
    const active = state.active?.id === id && variants.some((v) => v.precision === state.active?.precision) ? state.active.precision : null;
    let pending: InstalledModel['pending'] = null;
    const leftovers = source ? [] : await readdir(sourceDir).catch(() => [] as string[]);
    if (leftovers.length > 0) {
      // A download that did not finish; partial files carry a tag naming their repo (see hub/client.ts).
      let bytes = 0;
      for (const name of leftovers) {
        if (!name.endsWith('.partial.json')) bytes += (await stat(join(sourceDir, name)).catch(() => null))?.size ?? 0;
        else repo ??= (JSON.parse(await readFile(join(sourceDir, name), 'utf8').catch(() => '{}')) as { repo?: string }).repo ?? null;
      }
      pending = { bytes };
    }
    return { id, dir, repo, source, variants, active, pending };
  }

  private async state(): Promise<LibraryState> {
    const text = await readFile(join(this.dir, LIBRARY_FILE), 'utf8').catch(() => null);
    if (text === null) return { active: null };
    // A damaged library.json only loses the choice of active model, never the models.
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      return { active: null };
    }
    const parsed = libraryStateSchema.safeParse(json);
    return parsed.success ? parsed.data : { active: null };
  }

  private async writeState(state: LibraryState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, LIBRARY_FILE);
    await writeFile(`${file}.partial`, JSON.stringify(state, null, 2) + '\n');
    await rename(`${file}.partial`, file);
  }
}

export async function readSourceManifest(dir: string): Promise<SourceManifest> {
  const file = join(dir, SOURCE_MANIFEST);
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new TsuzukiError('not_found', `${file} is missing: ${dir} is not a complete download.`, { cause });
  });
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Reported below as not a manifest.
  }
  const parsed = sourceManifestSchema.safeParse(json);
  if (!parsed.success) throw new TsuzukiError('corrupt_file', `${file} is not a Tsuzuki source manifest (${z.prettifyError(parsed.error)}). Download the model again.`);
  return parsed.data;
}

/** A folder inside a Hugging Face cache (`models--org--name/snapshots/<commit>`) tells its repo and commit. */
function hfCacheOrigin(dir: string): { repo: string | null; revision: string | null; commit: string | null } {
  const m = /models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]([0-9a-f]{40})[/\\]?$/.exec(dir);
  return m ? { repo: `${m[1]}/${m[2]}`, revision: m[3]!, commit: m[3]! } : { repo: null, revision: null, commit: null };
}

function checkId(id: string): void {
  if (!ID.test(id) || id.includes('..')) throw new TsuzukiError('invalid_argument', `"${id}" is not a model id (e.g. rinna--japanese-gpt-1b).`);
}

function safeId(name: string): string {
  const id = name.replace(/[^\w.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (!id) throw new TsuzukiError('invalid_argument', `Cannot make a model id from the folder name "${name}"; pass one explicitly.`);
  return id;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
