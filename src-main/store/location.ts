import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Tsuzuki keeps its data: `$TSUZUKI_HOME`, else the platform's per-user application data folder. */
export function dataDir(): string {
  const env = process.env.TSUZUKI_HOME;
  if (env) return env;
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Tsuzuki');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Tsuzuki');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'tsuzuki');
}

export function defaultDatabasePath(): string {
  return join(dataDir(), 'tsuzuki.db');
}
