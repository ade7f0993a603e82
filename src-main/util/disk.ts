/** Free disk space, asked of the nearest folder that exists (the destination may not be created yet). */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

export type FreeSpaceProbe = (dir: string) => Promise<number>;

export const freeSpace: FreeSpaceProbe = async (dir) => {
  for (let current = dir; ; current = dirname(current)) {
    try {
      const s = await statfs(current);
      return s.bavail * s.bsize;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error;
    }
  }
};

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
