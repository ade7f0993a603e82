import type { Configuration } from 'electron-builder';

/**
 * Electron fuses flipped in the packaged binary. electron-builder applies them after `afterPack` and right before
 * signing, so the signature covers the flipped bytes. Security review required before changing any of these.
 */
export const electronFuses = {
  // `ELECTRON_RUN_AS_NODE=1 Tsuzuki` would turn the signed app into a general-purpose Node.
  runAsNode: false,
  // Cookies and local storage encrypted with the OS keychain key.
  enableCookieEncryption: true,
  // NODE_OPTIONS could preload arbitrary code into the signed process.
  enableNodeOptionsEnvironmentVariable: false,
  // --inspect / --inspect-brk would let anyone attach a debugger to the main process.
  enableNodeCliInspectArguments: false,
  // app.asar is checked against the hash embedded at packaging (macOS Info.plist, Windows resource); Linux ignores it.
  enableEmbeddedAsarIntegrityValidation: true,
  // Only app.asar is loaded, so a dropped-in resources/app folder cannot replace the app.
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  // The renderer is served from app://, never file://.
  grantFileProtocolExtraPrivileges: false,
  // Flipping fuses invalidates the ad-hoc signature of macOS binaries; an unsigned local build would not start.
  resetAdHocDarwinSignature: true,
} as const satisfies NonNullable<Configuration['electronFuses']>;
