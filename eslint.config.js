import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

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
  {
    // Layering: only src-main/app may import electron; the renderer may only import types from src-main.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/app/**', 'src-main/ipc/transport-electron.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src-main/app imports electron.' }] }] },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}'],
    rules: {
      // src-main/contract is the shared leaf (it imports only zod): its plain checks run in the renderer too.
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/src-main/*', '!**/src-main/contract'], allowTypeImports: true, message: 'The renderer only imports types from src-main, and code only from src-main/contract.' }] }],
    },
  },
);
