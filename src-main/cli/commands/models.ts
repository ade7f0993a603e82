import { stat } from 'node:fs/promises';
import { DEFAULT_BLOCK_SIZE } from '../../model/convert/quantize';
import { PRECISIONS, type Precision } from '../../model/convert/weights';
import { ModelsService, type ModelJob } from '../../services/models';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { exitStatusFor } from '../exit-status';
import { progressBar } from '../progress';

const usage = [
  'tsuzuki models list',
  `       tsuzuki models add <repo-id|folder> [--revision main] [--precision int4] [--block-size ${DEFAULT_BLOCK_SIZE}] [--endpoint URL] [--activate]`,
  '       tsuzuki models remove <id> [--source | --converted [--precision P]]',
  '       tsuzuki models verify [<id>]',
  '       tsuzuki models use <id> [--precision P]',
].join('\n');

const out = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

export const models: Command = {
  name: 'models',
  summary: 'The model library ($TSUZUKI_HOME/models): list, add (from the hub or a folder), remove, verify, use',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'add') return add(rest);
    const service = new ModelsService();
    switch (sub) {
      case 'list': {
        parseCommandArgs(usage, rest, {}, false);
        out(await service.list());
        return 0;
      }
      case 'remove': {
        const { values, positionals } = parseCommandArgs(usage, rest, {
          source: { type: 'boolean', default: false },
          converted: { type: 'boolean', default: false },
          precision: { type: 'string' },
        });
        const id = one(positionals, '<id>');
        if (values.source && values.converted) throw new TsuzukiError('invalid_argument', `Give --source or --converted, not both (neither removes everything).\nUsage: ${usage}`);
        const part = values.source ? 'source' : values.converted ? 'converted' : 'all';
        await service.remove(id, part, precisionOf(values.precision));
        out({ removed: id, part, precision: values.precision ?? null });
        return 0;
      }
      case 'verify': {
        const { positionals } = parseCommandArgs(usage, rest, {});
        const ids = positionals.length > 0 ? positionals : (await service.list()).models.map((m) => m.id);
        const reports = [];
        for (const id of ids) {
          process.stderr.write(`verifying ${id}…\n`);
          reports.push(await service.verify(id));
        }
        const ok = reports.every((r) => r.ok);
        out({ ok, models: reports });
        // A damaged or missing file is the class of corrupt_file, as it would be had it been thrown.
        return ok ? 0 : exitStatusFor('corrupt_file');
      }
      case 'use': {
        const { values, positionals } = parseCommandArgs(usage, rest, { precision: { type: 'string' } });
        out({ active: await service.setActive(one(positionals, '<id>'), precisionOf(values.precision)) });
        return 0;
      }
      default:
        throw new TsuzukiError('invalid_argument', `${sub ? `Unknown subcommand "${sub}"` : 'Missing subcommand'}.\nUsage: ${usage}`);
    }
  },
};

async function add(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(usage, args, {
    revision: { type: 'string', default: 'main' },
    precision: { type: 'string' },
    'block-size': { type: 'string' },
    endpoint: { type: 'string' },
    activate: { type: 'boolean' },
  });
  const target = one(positionals, '<repo-id|folder>');
  const precision = precisionOf(values.precision);
  const blockSize = values['block-size'] === undefined ? undefined : Number(values['block-size']);
  const isFolder = await stat(target).then((s) => s.isDirectory(), () => false);
  const bar = await progressBar();
  let onPaused: (value: null) => void = () => undefined;
  const paused = new Promise<null>((resolve) => (onPaused = resolve));
  const service = new ModelsService({
    hub: { endpoint: values.endpoint },
    emit: (_event, status) => {
      if (status.state === 'paused') onPaused(null);
      else if (status.stage === 'download' && status.download) bar.download(status.download);
      else if (status.stage === 'convert' && status.convert) bar.step(status.convert.phase, status.convert.done, status.convert.total, status.convert.detail);
    },
  });
  const job: ModelJob = isFolder
    ? service.import({ path: target, precision, blockSize, activate: values.activate })
    : service.add({ repo: target, revision: values.revision, precision, blockSize, activate: values.activate });
  // Ctrl-C while downloading keeps the partial files (running the command again resumes); while converting it cancels.
  const interrupt = () => (job.status.stage === 'download' ? service.pause(job.status.jobId) : service.cancel(job.status.jobId));
  process.once('SIGINT', interrupt);
  try {
    const model = await Promise.race([job.done, paused]);
    bar.stop();
    if (!model) {
      process.stderr.write(`Interrupted. The partial download stays in ${service.library.sourceDir(job.status.modelId)}; run the same command again to resume.\n`);
      return 130;
    }
    out({ model, active: await service.active() });
    return 0;
  } finally {
    bar.stop();
    process.off('SIGINT', interrupt);
  }
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new TsuzukiError('invalid_argument', `Expected ${what}.\nUsage: ${usage}`);
  return positionals[0]!;
}

function precisionOf(value: string | undefined): Precision | undefined {
  if (value === undefined) return undefined;
  if (!PRECISIONS.includes(value as Precision)) throw new TsuzukiError('invalid_argument', `--precision must be one of ${PRECISIONS.join(', ')}, got ${value}.`);
  return value as Precision;
}
