// Lint rules: the recommended sets of ESLint and typescript-eslint, plus the layering of DESIGN.md
// (scanner-node and recon-node never import each other; protocol imports nothing of ours; nothing imports pwa).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const layer = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

export default tseslint.config(
  { ignores: ['node_modules/**', 'pwa/dist/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', crypto: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', structuredClone: 'readonly', fetch: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly', self: 'readonly', localStorage: 'readonly', indexedDB: 'readonly', customElements: 'readonly', HTMLElement: 'readonly', Event: 'readonly', CustomEvent: 'readonly', EventTarget: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'warn'
    }
  },
  { files: ['protocol/**'], rules: layer(['**/node/**', '**/scanner-node/**', '**/recon-node/**', '**/pwa/**', 'node:*']) },
  { files: ['scanner-node/**'], rules: layer(['**/recon-node/**', '**/pwa/**']) },
  { files: ['recon-node/**'], rules: layer(['**/scanner-node/**', '**/pwa/**']) },
  { files: ['node/**'], ignores: ['node/cli/main.ts', 'node/cli/bench.ts'], rules: layer(['**/scanner-node/**', '**/recon-node/**', '**/pwa/**']) },
  { files: ['pwa/**'], rules: layer(['**/node/**', '**/scanner-node/**', '**/recon-node/**', 'node:*']) }
)
