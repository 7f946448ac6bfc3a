/**
 * The dashboard's build (`npm run build`): Preact and uPlot bundled into dist/dashboard/, which
 * `switchboard serve` serves at `/` (index.html) and `/assets/` — no build step at run time.
 */
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: { outDir: '../dist/dashboard', emptyOutDir: true, assetsDir: 'assets', sourcemap: false, chunkSizeWarningLimit: 300 },
  logLevel: 'warn',
});
