import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'test-results/',
      '.tmp/',
      'eslint.config.js',
      'native/build/',
      'native/udp/build/',
      'app/renderer/dist/',
      'app/main/dist/',
      'app/preload/index.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      curly: ['error', 'all'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The protocol core never talks D-Bus: D-Bus is one adapter among its subscribers.
    files: ['service/calls/**', 'service/sip/**', 'service/core/**', 'service/media/**', 'service/sdp/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['dbus-next', '**/dbus/**', '**/daemon/**'] }],
    },
  },
);
