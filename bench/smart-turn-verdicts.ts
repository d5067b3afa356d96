/**
 * Smart Turn in headless Chromium (not a test): `npx tsx bench/smart-turn-verdicts.ts`.
 *
 * Loads the Smart Turn worker through its controller (Vite dev server, so no build is
 * needed), feeds it the JFK clip whole, cut at 6.5 s and cut at 3.0 s (the reference
 * verdicts in ../shared/models/README.md: ≈0.83 / ≈0.06 / ≈0.97), then times repeated
 * calls with 1 and 2 wasm threads, on a cross-origin isolated page.
 *
 * Output: a table on stdout and bench/results/smart-turn-verdicts.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'vite';
import { openPage } from '../tests/e2e/support/browser.ts';
import { AUDIO_DIR, readWav } from '../tests/e2e/support/wav.ts';
import { quantile } from '../src/platform/stats.ts';

const PORT = Number(process.env.SMART_TURN_CHECK_PORT) || 4185;
const REPEATS = 12;

async function main() {
  const server = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
  await server.listen();
  const origin = `http://127.0.0.1:${PORT}`;
  const jfk = readWav(join(AUDIO_DIR, 'english-other/en_jfk_inaugural_1961.wav')).samples;
  const clips = { whole: jfk, 'cut 6.5 s': jfk.subarray(0, 104_000), 'cut 3.0 s': jfk.subarray(0, 48_000) };
  const results: Record<string, unknown> = {};
  try {
    for (const threads of [1, 2]) {
      const opened = await openPage(`${origin}/index.html`);
      try {
        const { page } = opened;
        const out = await page.evaluate(
          async ({ clips, threads, repeats }) => {
            const { SmartTurnController } = await import('/src/turns/smart-turn-controller.ts' as string);
            const errors: string[] = [];
            const controller = new SmartTurnController({ onProgress: () => {}, onCrash: (e: Error) => errors.push(e.message) }, threads);
            const loadStarted = performance.now();
            await controller.load('/models');
            const loadMs = performance.now() - loadStarted;
            const verdicts: Record<string, number> = {};
            for (const [name, samples] of Object.entries(clips)) {
              verdicts[name] = (await controller.judge(Float32Array.from(samples as number[]))).probability;
            }
            const calls: { featuresMs: number; inferenceMs: number; roundTripMs: number }[] = [];
            const audio = clips.whole as number[];
            for (let i = 0; i < repeats; i++) {
              const t0 = performance.now();
              const v = await controller.judge(Float32Array.from(audio));
              calls.push({ featuresMs: v.featuresMs, inferenceMs: v.inferenceMs, roundTripMs: performance.now() - t0 });
            }
            controller.dispose();
            return { isolated: crossOriginIsolated, threads, loadMs, verdicts, calls, errors };
          },
          { clips: Object.fromEntries(Object.entries(clips).map(([k, v]) => [k, Array.from(v)])), threads, repeats: REPEATS },
        );
        results[`threads=${threads}`] = out;
        const q = (key: 'featuresMs' | 'inferenceMs' | 'roundTripMs', p: number) => quantile(out.calls.map((c) => c[key]), p).toFixed(0);
        console.log(
          `threads ${threads} (isolated ${out.isolated}): load ${out.loadMs.toFixed(0)} ms; ` +
            Object.entries(out.verdicts).map(([k, v]) => `${k} → ${v.toFixed(3)}`).join(', ') +
            `; per call p50/p90: features ${q('featuresMs', 0.5)}/${q('featuresMs', 0.9)} ms, model ${q('inferenceMs', 0.5)}/${q('inferenceMs', 0.9)} ms, round trip ${q('roundTripMs', 0.5)}/${q('roundTripMs', 0.9)} ms` +
            (out.errors.length ? `; errors: ${out.errors.join('; ')}` : ''),
        );
      } finally {
        await opened.close();
      }
    }
  } finally {
    await server.close();
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/smart-turn-verdicts.json', JSON.stringify(results, null, 2));
}

await main();
