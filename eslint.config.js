import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.emulators/', 'dist/', 'models/.venv/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['dashboard-api/public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', EventSource: 'readonly', fetch: 'readonly', location: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
);
