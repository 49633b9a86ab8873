import { defineConfig } from '@playwright/test';

// Playwright drives Debian's Chromium (scripts/test.sh installs it); its own browser download is
// not used. e2e/run.sh starts the service and sets FLAGSERVICE_URL.
export default defineConfig({
  testDir: 'e2e',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  workers: 1,
  reporter: [['list'], ['json', { outputFile: process.env.PLAYWRIGHT_JSON ?? 'test-results/results.json' }]],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.FLAGSERVICE_URL ?? 'http://127.0.0.1:8080',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Chromium's sandbox cannot start as root, which is how CI runs.
      args: ['--no-sandbox'],
    },
    screenshot: 'only-on-failure',
  },
});
