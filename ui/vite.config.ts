import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built into the service's static folder; hashed names under /assets are cached for a year.
export default defineConfig({
  plugins: [react()],
  build: { outDir: '../wwwroot', emptyOutDir: true, assetsDir: 'assets' },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/auth', '/sdk', '/health'].map((p) => [p, process.env.FLAGSERVICE_URL ?? 'http://localhost:8080']),
    ),
  },
});
