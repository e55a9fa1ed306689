// ESLint for the whole repository. The linter and its TypeScript parser live in tools/lint (see its
// package.json for why); `npm test` runs it as the "lint" step, Prettier as the "format" step.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('./tools/lint/package.json', import.meta.url));
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/** The folders of src/core from the bottom up (shared with the architecture test). */
const { layers } = JSON.parse(readFileSync(new URL('./test/unit/architecture/coreLayers.json', import.meta.url), 'utf8'));

/** One block per core folder: importing a folder above it is an error, as is the editor API. */
const layerRules = layers.map((layer, i) => ({
  files: [`src/core/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [{ name: 'vscode', message: 'src/core runs in plain Node: pass what you need in from src/vscode.' }],
        patterns: layers.slice(i + 1).map((above) => ({
          group: [`**/${above}/*`, `../${above}`, `../../${above}`],
          message: `src/core/${layer} sits below src/core/${above} (test/unit/architecture/coreLayers.json): move the shared part down, or pass it in.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'tools/lint/node_modules/**',
      'dist/**',
      'media/dist/**',
      'artifacts/**',
      '.vscode-host/**',
      '.bench-cache/**',
      'out/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        // Node and the browser (the webview): TypeScript checks the names; ESLint need not.
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      // TypeScript reports unknown names and unused code itself (strict tsconfig).
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
      // Sanitisers and parsers match control characters on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
    },
  },
  ...layerRules,
  {
    files: ['src/core/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'], patterns: ['./*/*'] }] },
  },
);
