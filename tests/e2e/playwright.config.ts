import { defineConfig } from '@playwright/test';

/** The preview server's port; set VOICE_AGENT_TEST_PORT to run beside another checkout's tests. */
const PORT = Number(process.env.VOICE_AGENT_TEST_PORT) || 4173;

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
      command: `npx vite preview --port ${PORT} --strictPort --host 127.0.0.1`,
      url: `http://127.0.0.1:${PORT}/`,
      reuseExistingServer: !process.env.CI,
      cwd: '../..',
    },
  ],
});
