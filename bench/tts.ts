/**
 * Speech output benchmark (not a test): `npm run bench:tts` (after `npm run build`).
 *
 * Same text (a 3-sentence reply), same voice (en_US-joe-medium from ../shared/models), same
 * headless Chromium on this machine, both warm (voice loaded, one reply spoken first):
 *
 * - ours: `<voice-agent>.say(text)` — clause splitting, Piper in our TTS worker, playback.
 *   Time to first audio = `say()` called → the reply's first sample is due at the output
 *   (its scheduled start on the AudioContext, from the element's debug records). Also
 *   reported: → first sound (the voice's lead-in silence is mostly trimmed), and the
 *   real-time factor (synthesis time ÷ audio made, phonemization included).
 * - baseline: piper-tts-web's own `PiperWebEngine.generate(text, voice)` on the whole text
 *   (its dist bundle, phonemizer and ONNX Runtime files served offline from our origin).
 *   Its audio cannot start before `generate()` resolves, so that is its time to first
 *   audio — decoding and playing its WAV are not counted (in its favour).
 *
 * Medians over RUNS runs each. Output: a markdown table on stdout and bench/results/tts.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { openAgentPage } from '../tests/e2e/support/browser.ts';
import { chunkRecords, openSpeakingPage, sayInPage } from '../tests/e2e/support/speech.ts';
import { median } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

const PORT = 4290;
const RUNS = 5;
const VOICE = 'en_US-joe-medium';
const TEXT =
  'Hello there, thanks for calling. The weather today is sunny and warm, with a light breeze from the west. Would you like me to book a table for dinner tonight?';

const require = createRequire(import.meta.url);
const PIPER_DIST = join(dirname(require.resolve('piper-tts-web/package.json')), 'dist');

async function ours(origin: string) {
  const opened = await openSpeakingPage({ origin });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await sayInPage(page, TEXT); // warm-up reply
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      await sayInPage(page, TEXT);
      const chunks = (await chunkRecords(page)).filter((c) => c.replyId === run + 2);
      const first = chunks[0]!;
      const synthMs = chunks.reduce((n, c) => n + c.phonemizeMs + c.inferenceMs, 0);
      const audioMs = chunks.reduce((n, c) => n + c.audioMs, 0);
      runs.push({
        firstAudioMs: first.startsAt - first.saidAt,
        firstSoundMs: first.startsAt - first.saidAt + (first.voicedStartFrame / first.sampleRateHz) * 1000,
        firstClause: first.speech,
        firstClauseSynthMs: first.phonemizeMs + first.inferenceMs,
        firstClauseAudioMs: first.audioMs,
        clauses: chunks.length,
        underrunMs: chunks.reduce((n, c) => n + c.underrunMs, 0),
        rtf: synthMs / audioMs,
        audioMs,
      });
    }
    return { crossOriginIsolated: await page.evaluate(() => crossOriginIsolated), runs };
  } finally {
    await opened.close();
  }
}

async function baseline(origin: string) {
  const opened = await openAgentPage({ origin, body: '' });
  try {
    const { page, context } = opened;
    // piper-tts-web's dist, served from our origin (never a CDN).
    await context.route(`${origin}/__baseline__/**`, (route) => {
      const path = new URL(route.request().url()).pathname.replace('/__baseline__/', '');
      const file = join(PIPER_DIST, path);
      if (!file.startsWith(PIPER_DIST) || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
      return route.fulfill({
        status: 200,
        body: readFileSync(file),
        // Its ONNX Runtime starts its threads from this very bundle: worker scripts need COEP.
        headers: { 'Content-Type': type, 'Cross-Origin-Resource-Policy': 'cross-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      });
    });
    return await page.evaluate(
      async ({ text, voice, runs }) => {
        const url = '/__baseline__/piper-tts-web.js';
        const piper = (await import(url)) as Record<string, new (options?: object) => object>;
        const engine = new piper['PiperWebEngine']!({
          onnxRuntime: new piper['OnnxWebRuntime']!({ basePath: '/__baseline__/onnx/' }),
          phonemizeRuntime: new piper['PhonemizeWebRuntime']!({ basePath: '/__baseline__/piper/' }),
          voiceProvider: new piper['RemoteVoiceProvider']!({ baseUrl: `${location.origin}/models/rhasspy/piper-voices/` }),
          expressionRuntime: { destroy() {} }, // not used: keeps its sentiment model from loading
        }) as { generate(text: string, voice: string, speaker: number): Promise<{ duration: number }> };
        await engine.generate(text, voice, 0); // load + warm-up
        await engine.generate(text, voice, 0);
        const results = [];
        for (let run = 0; run < runs; run++) {
          const started = performance.now();
          const response = await engine.generate(text, voice, 0);
          const elapsed = performance.now() - started;
          results.push({ firstAudioMs: elapsed, audioMs: response.duration, rtf: elapsed / response.duration });
        }
        return { crossOriginIsolated, runs: results };
      },
      { text: TEXT, voice: VOICE, runs: RUNS },
    );
  } finally {
    await opened.close();
  }
}

async function main() {
  const server = await startPreview(PORT);
  const { origin } = server;
  const load = loadavg()[0]!;
  let mine: Awaited<ReturnType<typeof ours>>;
  let theirs: Awaited<ReturnType<typeof baseline>>;
  try {
    process.stderr.write('… ours (<voice-agent>.say)\n');
    mine = await ours(origin);
    process.stderr.write('… baseline (piper-tts-web generate)\n');
    theirs = await baseline(origin);
  } finally {
    await server.close();
  }
  const m = (values: number[]) => median(values);
  const summary = {
    oursFirstAudioMs: m(mine.runs.map((r) => r.firstAudioMs)),
    oursFirstSoundMs: m(mine.runs.map((r) => r.firstSoundMs)),
    oursFirstClauseSynthMs: m(mine.runs.map((r) => r.firstClauseSynthMs)),
    oursRtf: m(mine.runs.map((r) => r.rtf)),
    oursUnderrunMs: m(mine.runs.map((r) => r.underrunMs)),
    baselineFirstAudioMs: m(theirs.runs.map((r) => r.firstAudioMs)),
    baselineRtf: m(theirs.runs.map((r) => r.rtf)),
  };
  const ratio = summary.baselineFirstAudioMs / summary.oursFirstAudioMs;
  const rows = [
    ['time to first audio (say → first sample due), median', `${summary.oursFirstAudioMs.toFixed(0)} ms`, `${summary.baselineFirstAudioMs.toFixed(0)} ms`, `${ratio.toFixed(1)}× sooner`],
    ['time to first sound (lead-in silence trimmed), median', `${summary.oursFirstSoundMs.toFixed(0)} ms`, '–', ''],
    [`first clause ("${mine.runs[0]!.firstClause}") phonemize + synthesis, median`, `${summary.oursFirstClauseSynthMs.toFixed(0)} ms`, '–', ''],
    ['real-time factor (synthesis ÷ audio), median', summary.oursRtf.toFixed(3), summary.baselineRtf.toFixed(3), ''],
    ['gaps inserted between clauses (underruns), median total', `${summary.oursUnderrunMs.toFixed(0)} ms`, '–', ''],
  ];
  console.log(`| ${RUNS} warm runs, ${VOICE}, 3-sentence reply | ours: \`say()\` | piper-tts-web \`generate()\` | |`);
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(
    `\ncross-origin isolated: ours ${mine.crossOriginIsolated}, baseline ${theirs.crossOriginIsolated}; ${cpus().length} cores, load average ${load.toFixed(2)} at start`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/tts.json',
    JSON.stringify({ date: new Date().toISOString(), text: TEXT, voice: VOICE, loadAverage: load, summary, ours: mine, baseline: theirs }, null, 2),
  );
  console.log('\nwrote bench/results/tts.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
