/** The Electron entry: lifecycle, the one window, and the services bound to IPC. */
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain } from 'electron';
import { contract } from '../contract/contract';
import { createRouter } from '../ipc/router';
import { bindElectronIpc } from '../ipc/transport-electron';
import { createAppServices } from '../services/app-services';
import { openRemoteStore } from '../services/store-remote';
import { defaultDatabasePath } from '../store/location';
import { guardClose } from './close-guard';
import { APP_ORIGIN, registerAppScheme, serveRenderer } from './protocol';
import { installSecurityGuards } from './security';
import { setupAutoUpdate } from './updater';
import { isAppUrl as isAppUrlOf, rendererUrl } from './urls';
import { loadWindowState, rememberWindowState } from './window-state';

// The dev server in `npm run dev` only; packaged and preview builds load app://.
const devServerUrl = rendererUrl(process.env, app.isPackaged);
const isAppUrl = (url: string) => isAppUrlOf(url, APP_ORIGIN, devServerUrl);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  let mainWindow: BrowserWindow | null = null;
  let closeGuard: { ready(): void } | undefined;

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  const createWindow = (): BrowserWindow => {
    const userData = app.getPath('userData');
    const state = loadWindowState(userData);
    const window = new BrowserWindow({
      ...state,
      minWidth: 480,
      minHeight: 360,
      show: false,
      title: '続き — Tsuzuki',
      autoHideMenuBar: true,
      webPreferences: {
        preload: join(import.meta.dirname, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        spellcheck: false,
        additionalArguments: [`--tsuzuki-channels=${Object.keys(contract.requests).join(',')}`],
      },
    });
    if (state.maximized) window.maximize();
    rememberWindowState(window, userData);
    closeGuard = guardClose(window);
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => (mainWindow = null));
    void window.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
    return window;
  };

  void app.whenReady().then(async () => {
    installSecurityGuards(isAppUrl);
    serveRenderer(join(import.meta.dirname, '../renderer'));
    const { store, storeError } = await openRemoteStore(defaultDatabasePath(), (message) => console.error(`Tsuzuki: ${message}`));
    const services = createAppServices({
      store,
      storeError,
      onCloseReady: () => closeGuard?.ready(),
      onSettingsChanged: (settings) => updates.setEnabled(settings.updates.enabled),
    });
    const updates = setupAutoUpdate({ enabled: services.settings().updates.enabled });
    // Stop generation (its last history write included) before the database closes, then quit for real.
    let disposed = false;
    app.on('will-quit', (event) => {
      if (disposed) return;
      event.preventDefault();
      disposed = true;
      updates.dispose();
      void services
        .dispose()
        .catch((error: unknown) => console.error('Tsuzuki: while stopping', error))
        .then(() => store?.close())
        .catch((error: unknown) => console.error('Tsuzuki: while closing the database', error))
        .finally(() => app.quit());
    });
    const router = createRouter(contract, services.handlers);
    bindElectronIpc(ipcMain, router, {
      isTrustedUrl: isAppUrl,
      isOurWindow: (contents) => mainWindow !== null && !mainWindow.isDestroyed() && contents === mainWindow.webContents,
    });
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
