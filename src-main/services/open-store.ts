import { describeRecovery } from '../store/backups';
import { Store } from '../store/store';
import type { StoreDeps } from './store-handlers';

/**
 * Opens the database the way the app and `tsuzuki serve` both do: a damaged database is set aside, replaced by its
 * newest good backup and salvaged (`db.status` tells the UI what was recovered and what was not); one that cannot be opened leaves the app running, and every store request
 * answers with the reason instead of silently starting empty. A daily backup keeps something recent to restore.
 */
export async function openAppStore(path: string, log: (message: string) => void): Promise<StoreDeps & { store: Store | null }> {
  try {
    const store = await Store.open(path, { recover: true });
    if (store.report.recovery) log(describeRecovery(path, store.report.recovery));
    store.startCheckpoints();
    await store.backupIfOlderThan(24 * 3600_000).catch((error: unknown) => log(`backup skipped: ${error instanceof Error ? error.message : String(error)}`));
    return { store, storeError: null };
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    return { store: null, storeError: error };
  }
}
