// ESLint's configuration for the dashboard page's browser script (assets/*.js), and only that:
//   npx eslint -c ts/net/dashboard/eslint.config.mjs ts/net/dashboard/assets
// The TypeScript is checked by tsc. Beyond ESLint's recommended rules, the page never builds
// markup from data (numbers and names go in through textContent) and never evaluates strings:
// its Content-Security-Policy would block those anyway, and the rules catch it before a browser.
import js from '@eslint/js';
import globals from 'globals';

const noMarkup = 'the dashboard writes data with textContent (or dataset), never as markup';

export default [
  {
    basePath: import.meta.dirname,
    files: ['assets/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: 'script',
      globals: { ...globals.browser },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      ...js.configs.recommended.rules,
      strict: ['error', 'global'],
      eqeqeq: ['error', 'always'],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: noMarkup },
        { property: 'outerHTML', message: noMarkup },
        { property: 'insertAdjacentHTML', message: noMarkup },
        { object: 'document', property: 'write', message: noMarkup },
        { object: 'document', property: 'writeln', message: noMarkup },
      ],
    },
  },
];
