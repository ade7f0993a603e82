import type { Configuration } from 'electron-builder';
import afterPack, { ORT_BIN } from './build/after-pack';
import { electronFuses } from './build/fuses';

/**
 * What ships: the electron-vite bundle and package.json. node_modules is added by electron-builder (production
 * dependencies only) and filtered by the exclusions, which are the only patterns it applies there.
 */
const APP_FILES = [
  'out/main/**/*',
  'out/preload/**/*',
  'out/renderer/**/*',
  'package.json',
  '!**/*.{map,ts,mts,cts,tsx,md,markdown}',
  '!**/{test,tests,__tests__,fixtures,__fixtures__,.cache,docs,example,examples,benchmark}{,/**/*}',
  // better-sqlite3: C sources and build intermediates (20 MB); only build/Release/better_sqlite3.node is loaded.
  '!node_modules/better-sqlite3/{deps,src}{,/**/*}',
  '!node_modules/better-sqlite3/build/{deps,Release/obj,Release/obj.target,Release/test_extension.node}{,/**/*}',
  // onnxruntime-node's install-time downloader.
  '!node_modules/onnxruntime-node/script{,/**/*}',
];

/**
 * The file list of one platform. onnxruntime-node carries every platform's binaries (~290 MB); only the target's
 * folder ships. `${arch}` is expanded by electron-builder per build arch; the platform folder is spelled out because
 * its `${platform}` macro is the *host* platform. CUDA/TensorRT provider libraries live in the same folder, so they
 * ship wherever installed.
 * The whole list sits under each platform, none at the top level: electron-builder turns a top-level `files` into a
 * file set of its own, and a platform list of exclusions only would then match every file of the project.
 */
function filesFor(platform: 'darwin' | 'win32' | 'linux'): string[] {
  return [...APP_FILES, `!${ORT_BIN}/!(${platform}){,/**/*}`, `!${ORT_BIN}/${platform}/!(\${arch}){,/**/*}`];
}

const AZURE_VARS = {
  endpoint: 'AZURE_TRUSTED_SIGNING_ENDPOINT',
  codeSigningAccountName: 'AZURE_TRUSTED_SIGNING_ACCOUNT',
  certificateProfileName: 'AZURE_TRUSTED_SIGNING_PROFILE',
  publisherName: 'AZURE_TRUSTED_SIGNING_PUBLISHER',
} as const;

/** Azure Trusted Signing instead of a certificate file; the credentials come from AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET. */
function azureSignOptions(env: NodeJS.ProcessEnv): Record<keyof typeof AZURE_VARS, string> {
  const entries = Object.entries(AZURE_VARS).map(([key, name]) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: Azure Trusted Signing needs all of ${Object.values(AZURE_VARS).join(', ')}.`);
    return [key, value];
  });
  return Object.fromEntries(entries) as Record<keyof typeof AZURE_VARS, string>;
}

const NOTARIZE_VARS = ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'] as const;

/**
 * `TSUZUKI_RELEASE=1` (set only by the release workflow) turns a missing certificate into a failed build, and on a
 * macOS host missing notarization credentials too (electron-builder would skip notarization with a warning).
 */
export function createConfig(env: NodeJS.ProcessEnv = process.env, host: NodeJS.Platform = process.platform): Configuration {
  const release = env.TSUZUKI_RELEASE === '1';
  const missing = NOTARIZE_VARS.filter((name) => !env[name]);
  if (release && host === 'darwin' && missing.length > 0) {
    throw new Error(`${missing.join(', ')} not set: a macOS release must be notarized (see build/RELEASING.md).`);
  }
  // In GitHub Actions the repository is known; elsewhere electron-builder reads package.json `repository` or .git/config.
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const azure = env.AZURE_TRUSTED_SIGNING_ENDPOINT ? azureSignOptions(env) : null;

  return {
    appId: 'app.tsuzuki.desktop',
    productName: 'Tsuzuki',
    copyright: 'Copyright © Tsuzuki contributors',
    directories: { output: 'dist', buildResources: 'build' },
    // Chromium's own UI strings (context menus, dialogs) in the app's two languages; the other 50-odd locales are ~40 MB.
    electronLanguages: ['ja', 'en-US'],
    // smartUnpack would unpack whole native packages, JavaScript included, out of reach of the asar integrity check;
    // only the binaries themselves leave the asar (signed on macOS and Windows).
    asar: { smartUnpack: false },
    // A `.node` and the shared libraries it links against cannot be loaded from inside the asar.
    asarUnpack: ['**/*.node', `${ORT_BIN}/**/*`],
    // better-sqlite3 is rebuilt for Electron's ABI here (tests use Node's ABI, so no postinstall does it).
    npmRebuild: true,
    electronFuses,
    afterPack,
    forceCodeSigning: release,
    publish: {
      provider: 'github',
      releaseType: 'draft',
      ...(owner && repo ? { owner, repo } : {}),
    },

    win: {
      target: [{ target: 'nsis', arch: ['x64', 'arm64'] }],
      files: filesFor('win32'),
      // Native modules and onnxruntime/DirectML DLLs are signed too, not only the .exe.
      signExts: ['.node', '.dll'],
      ...(azure ? { azureSignOptions: azure } : {}),
    },
    nsis: {
      oneClick: false,
      perMachine: false,
      allowToChangeInstallationDirectory: true,
      installerLanguages: ['ja_JP'],
      language: '1041',
      multiLanguageInstaller: false,
      deleteAppDataOnUninstall: false,
      // One installer carries x64 and arm64 and installs the machine's; one latest.yml serves both to the updater.
      artifactName: '${productName}-Setup-${version}.${ext}',
    },

    mac: {
      target: [
        { target: 'dmg', arch: ['arm64', 'x64'] },
        // The zip is what electron-updater downloads on macOS.
        { target: 'zip', arch: ['arm64', 'x64'] },
      ],
      files: filesFor('darwin'),
      category: 'public.app-category.productivity',
      hardenedRuntime: true,
      gatekeeperAssess: false,
      entitlements: 'build/entitlements.mac.plist',
      entitlementsInherit: 'build/entitlements.mac.plist',
      // Uses APPLE_API_KEY (path to the .p8), APPLE_API_KEY_ID and APPLE_API_ISSUER.
      notarize: release,
    },
    dmg: { artifactName: '${productName}-${version}-${arch}.${ext}' },

    linux: {
      target: [
        { target: 'AppImage', arch: ['x64'] },
        { target: 'deb', arch: ['x64'] },
      ],
      files: filesFor('linux'),
      executableName: 'tsuzuki',
      category: 'Office',
      synopsis: 'Continues Japanese prose with a local language model',
      maintainer: owner ? `${owner} <${owner}@users.noreply.github.com>` : 'Tsuzuki contributors',
    },
    appImage: { artifactName: '${productName}-${version}-${arch}.${ext}' },
  };
}

export default createConfig();
