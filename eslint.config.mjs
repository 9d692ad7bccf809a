// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Imports that would make a `core/` folder impure (DESIGN.md: core is pure). */
const impureModules = [
  '@nestjs/*',
  'typeorm',
  'typeorm/*',
  'pg',
  'pg/*',
  '@grpc/*',
  '@nats-io/*',
  'nats',
  '@kubernetes/client-node',
  '@electric-sql/*',
  'node:fs',
  'node:fs/*',
  'fs',
  'fs/*',
  'node:net',
  'net',
  'node:http',
  'http',
  'node:http2',
  'http2',
  'node:https',
  'https',
  'node:child_process',
  'child_process',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/gen/**', '**/node_modules/**', '**/migrations/**', '.nx/**', '.tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/src/core/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: impureModules,
              message: 'core/ is pure: no I/O, frameworks or clients (see DESIGN.md). Resolve inputs in a service and pass them in.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'core/ is pure: take configuration and `now` as arguments.' },
        { name: 'fetch', message: 'core/ is pure: no I/O.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'core/ takes `now` as an argument.' },
        { object: 'Math', property: 'random', message: 'core/ is deterministic: take randomness as an argument.' },
      ],
    },
  },
);
