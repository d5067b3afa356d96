import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests: the built site (`npm run build`) served by `vite preview`, host pages
 * served with and without cross-origin isolation, and Debian's Chromium with a fake
 * microphone playing real recordings from ../shared.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../../test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // Fake-mic audio plays in real time and models need the CPU: one test at a time keeps
  // timings honest on a 2-core machine.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: { trace: 'off' },
  webServer: [
    {
      command: 'npx vite preview --port 4173 --strictPort --host 127.0.0.1',
      url: 'http://127.0.0.1:4173/',
      reuseExistingServer: !process.env.CI,
      cwd: '../..',
    },
  ],
});
