/** One cli-progress bar on stderr for the CLI's long jobs: downloads, and steps such as conversion phases. */
import type { DownloadProgress } from '../model/hub/download';
import { formatBytes } from '../util/disk';

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
