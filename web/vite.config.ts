import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is served under a CSP without 'unsafe-inline': the build must emit no inline
 * script or style (test/integration/ui.test.ts checks index.html), and no asset is inlined as a
 * data: URL.
 */
export default defineConfig({
  root,
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev:web` against a server on 8080: the API is same-origin through the proxy.
    proxy: { '/v1': 'http://127.0.0.1:8080', '/oauth': 'http://127.0.0.1:8080' },
  },
});
