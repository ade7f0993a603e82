/**
 * Auto-update from the GitHub releases that electron-builder publishes (the feed is baked into app-update.yml at
 * packaging). electron-updater checks what it downloads: the sha512 of every file against latest*.yml, on Windows the
 * installer's Authenticode publisher against the app's own (publisherName in app-update.yml), and on macOS Squirrel
 * accepts only an update signed with the same designated requirement. Those checks are never overridden here.
 */
import { app } from 'electron';
import electronUpdater from 'electron-updater';

/** Leave startup (window, store, model) to itself before the first check. */
const FIRST_CHECK_DELAY_MS = 60_000;
const CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;

type UpdateStatus =
  | { state: 'checking' }
  | { state: 'none' }
  | { state: 'downloading'; version: string }
  | { state: 'ready'; version: string }
  | { state: 'error'; message: string };

export interface AutoUpdateOptions {
  /** The user's setting; off means no check, no download and no install on quit. */
  enabled: boolean;
  onStatus?: (status: UpdateStatus) => void;
}

export interface AutoUpdate {
  /** Follows the setting at run time. */
  setEnabled(enabled: boolean): void;
  /** Checks now (the "check for updates" menu item); resolves once the check is done. */
  checkNow(): Promise<void>;
  /** Restarts into a downloaded update; does nothing if none is ready. */
  installNow(): void;
  dispose(): void;
}

export function setupAutoUpdate(options: AutoUpdateOptions): AutoUpdate {
  const { autoUpdater } = electronUpdater;
  const report = options.onStatus ?? (() => {});
  // Only packaged builds have a feed (app-update.yml); `npm run dev` and `electron-vite preview` never update.
  const supported = app.isPackaged;
  let enabled = false;
  let ready = false;
  let timer: NodeJS.Timeout | undefined;

  autoUpdater.autoDownload = true;
  autoUpdater.allowPrerelease = false;
  autoUpdater.allowDowngrade = false;
  autoUpdater.logger = null;

  const check = async (): Promise<void> => {
    if (!supported || !enabled) return;
    // Offline, rate-limited or no feed: the 'error' event has reported it; the next interval tries again.
    await autoUpdater.checkForUpdates().catch(() => undefined);
  };

  const onChecking = () => report({ state: 'checking' });
  const onNone = () => report({ state: 'none' });
  const onAvailable = (info: { version: string }) => report({ state: 'downloading', version: info.version });
  const onDownloaded = (info: { version: string }) => {
    ready = true;
    report({ state: 'ready', version: info.version });
  };
  const onError = (error: Error) =>
    report({ state: 'error', message: `Update check failed: ${error.message}. Tsuzuki keeps working and tries again later.` });
  autoUpdater.on('checking-for-update', onChecking);
  autoUpdater.on('update-not-available', onNone);
  autoUpdater.on('update-available', onAvailable);
  autoUpdater.on('update-downloaded', onDownloaded);
  autoUpdater.on('error', onError);

  const setEnabled = (next: boolean): void => {
    enabled = next;
    // A downloaded update installs on quit only while updates are on.
    autoUpdater.autoInstallOnAppQuit = next;
    clearTimeout(timer); // clears the interval too
    timer = undefined;
    if (!supported || !next) return;
    timer = setTimeout(() => {
      void check();
      timer = setInterval(() => void check(), CHECK_INTERVAL_MS);
      timer.unref();
    }, FIRST_CHECK_DELAY_MS);
    timer.unref();
  };
  setEnabled(options.enabled);

  return {
    setEnabled,
    checkNow: check,
    installNow: () => {
      if (ready && enabled) autoUpdater.quitAndInstall();
    },
    dispose: () => {
      setEnabled(false);
      autoUpdater.off('checking-for-update', onChecking);
      autoUpdater.off('update-not-available', onNone);
      autoUpdater.off('update-available', onAvailable);
      autoUpdater.off('update-downloaded', onDownloaded);
      autoUpdater.off('error', onError);
    },
  };
}
