// Vite builds the UI into dist/, which crates/server/build.rs embeds into the
// hearth binary. `base: './'` makes every URL relative, so the same build
// works at http://127.0.0.1:11434/ui/ (browser, Tauri window) and behind a
// path prefix. `npm run dev` proxies the API to a local `hearth serve`.
import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

const api = process.env.HEARTH_URL || 'http://127.0.0.1:11434'

export default defineConfig({
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or data: modules: the server's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/v1', '/hearth', '/metrics', '/health'].map((p) => [p, api])),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
