import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/**
 * The main process's layers, lowest first: a folder imports from its own layer and the ones below, never above.
 * `contract` is the leaf shared with the preload and the renderer (it imports only zod); `manuscript`, beside it, holds
 * the rules of Japanese manuscript text (ruby notation, 文字数) that the main process and the renderer both apply.
 */
const LAYERS = [['contract', 'manuscript'], ['util'], ['tokenizer', 'engine', 'model', 'store', 'ipc', 'manuscript-io'], ['services'], ['app', 'cli', 'workers']];
/** Only the Electron shell (and the transport it hands ipcMain to) imports electron. */
const ELECTRON = { name: 'electron', message: 'Only src-main/app and ipc/transport-electron.ts import electron.' };

function mainProcessLayers() {
  return LAYERS.flatMap((layer, depth) => {
    const above = LAYERS.slice(depth + 1).flat();
    return layer.map((folder) => {
      const patterns =
        folder === 'contract' || folder === 'manuscript'
          ? [{ regex: '^(\\.\\./|node:)', message: `src-main/${folder} imports nothing but zod and itself: main, preload and renderer share it.` }]
          : above.length
            ? [{ regex: `^(\\.\\./)+(${above.join('|')})(/|$)`, message: `src-main/${folder} is below ${above.join(', ')}: move the shared part down instead.` }]
            : [];
      return {
        files: [`src-main/${folder}/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { paths: folder === 'app' ? [] : [ELECTRON], patterns }] },
      };
    });
  }).concat({
    files: ['src-main/ipc/transport-electron.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+(services|app|cli|workers)(/|$)', message: 'src-main/ipc is below services, app, cli, workers.' }] }] },
  });
}

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', '.cache/', 'test/fixtures/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}', 'src-renderer/**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  ...mainProcessLayers(),
  {
    files: ['src-renderer/**/*.{ts,svelte}'],
    rules: {
      // src-main/contract and src-main/manuscript are the shared leaves (they import only zod): the renderer runs them too.
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/src-main/*', '!**/src-main/contract', '!**/src-main/manuscript'], allowTypeImports: true, message: 'The renderer only imports types from src-main, and code only from src-main/contract and src-main/manuscript.' }] }],
    },
  },
);
