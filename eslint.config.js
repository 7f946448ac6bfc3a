// ESLint (flat config): typescript-eslint's recommended rules over the project's TypeScript, and
// ESLint's over the scripts, benchmarks and demo pages. The layers (core → connectors → server /
// client → cli) and import cycles are checked by dependency-cruiser (.dependency-cruiser.cjs);
// `npm run lint` runs both.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-results/', 'bench/results/', '**/fixtures/'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // `_name`: a value taken apart on purpose (a rest sibling, a callback's unused argument).
      // A handler that reads a variable assigned after it is set up (a server and its callbacks).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The demo's page scripts: plain ES modules run by the browser.
    files: ['demo/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.browser },
  },
  {
    // The scripts and benchmarks: plain ES modules run by Node.
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
);
