import { resolve } from 'node:path';
import { formatBytes } from '../../model/disk';
import { downloadModel, type DownloadProgress } from '../../model/hub-download';
import { TsuzukiError } from '../../util/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage = 'tsuzuki download <repo-id> <dest> [--revision main] [--endpoint URL]';

export const download: Command = {
  name: 'download',
  summary: 'Download what a model needs from Hugging Face (config, tokenizer, one weight file), verified; run again to resume',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      revision: { type: 'string', default: 'main' },
      endpoint: { type: 'string' },
    });
    if (positionals.length !== 2) throw new TsuzukiError('invalid_argument', `Expected <repo-id> and <dest>.\nUsage: ${usage}`);
    const [repo, dest] = positionals as [string, string];
    const bar = await progressBar();
    const handle = downloadModel({
      repo,
      revision: values.revision,
      dest: resolve(dest),
      clientOptions: { endpoint: values.endpoint },
      onProgress: bar.download,
    });
    // Ctrl-C keeps the partial files: running the command again resumes them.
    const interrupt = () => handle.pause();
    process.once('SIGINT', interrupt);
    try {
      const result = await Promise.race([handle.done, bar.paused]);
      bar.stop();
      if (!result) {
        process.stderr.write(`Interrupted. The partial files stay in ${resolve(dest)}; run the same command again to resume.\n`);
        return 130;
      }
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return 0;
    } finally {
      bar.stop();
      process.off('SIGINT', interrupt);
    }
  },
};

/** A cli-progress bar on stderr for downloads (and conversions, for `models add`). */
export async function progressBar() {
  const { SingleBar } = (await import('cli-progress')).default;
  const bar = new SingleBar({
    stream: process.stderr,
    format: '{phase} [{bar}] {percentage}% {detail}',
    hideCursor: true,
    clearOnComplete: true,
  });
  let started: string | null = null;
  let onPaused: (value: null) => void = () => undefined;
  const paused = new Promise<null>((resolve) => (onPaused = resolve));
  const show = (key: string, total: number, value: number, payload: { phase: string; detail: string }) => {
    if (started !== key) {
      if (started) bar.stop();
      started = key;
      bar.start(Math.max(total, 1), value, payload);
    } else {
      bar.setTotal(Math.max(total, 1));
      bar.update(value, payload);
    }
  };
  return {
    paused,
    download(p: DownloadProgress) {
      if (p.phase === 'paused') onPaused(null);
      const speed = p.speed > 0 ? `${formatBytes(p.speed)}/s` : '';
      const eta = p.etaSeconds !== null && p.speed > 0 ? `ETA ${formatDuration(p.etaSeconds)}` : '';
      const detail = [`${formatBytes(p.bytes)}/${formatBytes(p.total)}`, speed, eta, p.file ?? ''].filter(Boolean).join('  ');
      show('download', p.total, p.bytes, { phase: p.phase.padEnd(11), detail });
    },
    step(phase: string, done: number, total: number, detail: string) {
      show(phase, total, done, { phase: phase.padEnd(11), detail });
    },
    stop() {
      if (started) bar.stop();
      started = null;
    },
  };
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
