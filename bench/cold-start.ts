/**
 * Cold-start benchmark (not a test): `npm run bench:cold-start` (after `npm run build`).
 *
 * The time a visitor waits for the first answer: from `start()` (no `preload()`) to the
 * first audio of the answer to a question spoken 0.3 s after the microphone opens
 * (en_goforward.wav through the fake microphone; an instant scripted LLM). Measured on a
 * cold page (a fresh browser profile: nothing in Cache Storage or the HTTP cache) and on a
 * warm one (the same profile reloaded after that visit: models from Cache Storage), each
 * `BENCH_RUNS` times (default 3), and the medians quoted.
 *
 * Baseline, from the same run: loading one model after another, as the element did before
 * `start()` began loading the voice — the voice's load only once there is something to
 * say. It is the cold run's `start()` → final transcript, plus the time a fresh page takes
 * from `say()` to its first audio when nothing else is loading (the voice's download, load
 * and first clause). That leaves out the LLM's time (instant here) in the baseline's favour.
 *
 * Output: a table on stdout and bench/results/cold-start.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { agentMarkup, openAgentPage, recordedEvents, type OpenedPage } from '../tests/e2e/support/browser.ts';
import { LlmServer } from '../tests/e2e/support/llm-server.ts';
import { paddedFixture } from '../tests/e2e/support/wav.ts';
import { quantile } from '../src/platform/stats.ts';
import { startPreview } from './preview.ts';

const PORT = 4195;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REPLY = 'Sure. The garden opens at nine.';
/** Long enough after the question for the answer on a slow cold page. */
const WAIT_MS = 120_000;

interface Visit {
  /** start() → final transcript (ms). */
  transcriptMs: number | null;
  /** start() → the answer's first audio (ms). */
  firstAudioMs: number | null;
  /** The recognizer's own load (debug `asr-ready`), ms. */
  recognizerLoadMs: number | null;
  /** Model files requested over the network during the visit (not from Cache Storage). */
  modelRequests: number;
}

/** Waits (at most WAIT_MS, polling every `pollingMs`) until the page has recorded an event of `type`; a timeout is not an error, the caller reads what came. */
async function recorded(page: OpenedPage['page'], type: string, pollingMs: number): Promise<void> {
  await page
    .waitForFunction(
      (wanted) => ((window as unknown as { __events: { type: string }[] }).__events ?? []).some((e) => e.type === wanted),
      type,
      { timeout: WAIT_MS, polling: pollingMs },
    )
    .catch(() => {});
}

/** start(), then wait for the answer's first audio (`voice-metrics` is dispatched then). */
async function visit(page: OpenedPage['page']): Promise<Visit> {
  let modelRequests = 0;
  const count = (request: { url(): string }) => {
    if (request.url().includes('/models/')) modelRequests++;
  };
  page.on('request', count);
  const startedAt = await page.evaluate(() => {
    const t0 = performance.now();
    void document.querySelector('voice-agent')!.start();
    return t0;
  });
  await recorded(page, 'voice-metrics', 100);
  const events = (await recordedEvents(page)).filter((e) => e.at >= startedAt);
  const metrics = events.find((e) => e.type === 'voice-metrics');
  const transcript = events.find((e) => e.type === 'voice-transcript' && e.detail['final'] === true);
  const ready = await page.evaluate(
    () => ((window as unknown as { __debug?: { kind: string; loadMs?: number }[] }).__debug ?? []).find((d) => d.kind === 'asr-ready')?.loadMs ?? null,
  );
  page.off('request', count);
  return {
    transcriptMs: transcript ? transcript.at - startedAt : null,
    firstAudioMs: metrics && metrics.detail['firstAudioMs'] !== null ? metrics.at - startedAt : null,
    recognizerLoadMs: ready,
    modelRequests,
  };
}

/** A fresh page's `say()` → first words heard: the voice loaded alone, then its first clause. */
async function voiceAloneMs(origin: string): Promise<number | null> {
  const opened = await openAgentPage({ origin, body: agentMarkup('debug') });
  try {
    const { page } = opened;
    const saidAt = await page.evaluate((text) => {
      const t0 = performance.now();
      void document.querySelector('voice-agent')!.say(text);
      return t0;
    }, REPLY);
    await recorded(page, 'voice-response', 50);
    const first = (await recordedEvents(page, 'voice-response'))[0];
    return first ? first.at - saidAt : null;
  } finally {
    await opened.close();
  }
}

async function main() {
  // Speech 0.3 s after the microphone opens, then room for the answer.
  const { path } = paddedFixture('english-other/en_goforward.wav', 0.3, 20);
  const llm = new LlmServer();
  llm.defaultReply = { text: REPLY };
  await llm.start();
  const server = await startPreview(PORT);
  const cold: Visit[] = [];
  const warm: Visit[] = [];
  const voiceAlone: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`… run ${run}/${RUNS}: cold page\n`);
      const opened = await openAgentPage({
        micWav: path,
        origin: server.origin,
        // The element's own recognizer for English on WASM (Moonshine tiny), not the tests' Whisper.
        body: agentMarkup(`debug llm-url="${llm.url}" asr-model="" asr-dtype=""`),
        permissions: ['local-network-access'],
      });
      try {
        cold.push(await visit(opened.page));
        // Let the cache writes that follow a load land before the next visit.
        await opened.page.waitForTimeout(3000);
        process.stderr.write(`… run ${run}/${RUNS}: warm page (same profile, reloaded)\n`);
        await opened.page.reload();
        await opened.page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
        warm.push(await visit(opened.page));
      } finally {
        await opened.close();
      }
      process.stderr.write(`… run ${run}/${RUNS}: the voice alone on a fresh page\n`);
      const alone = await voiceAloneMs(server.origin);
      if (alone !== null) voiceAlone.push(alone);
    }
  } finally {
    await server.close();
    await llm.close();
  }

  const values = (visits: Visit[], key: keyof Visit) =>
    visits.map((v) => v[key]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const p50 = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : NaN);
  // The baseline, per cold run: transcript time + the voice's load and first clause alone.
  const sequential = cold
    .map((v, i) => (v.transcriptMs !== null && voiceAlone[i] !== undefined ? v.transcriptMs + voiceAlone[i]! : null))
    .filter((x): x is number => x !== null);
  const summary = {
    runs: RUNS,
    answered: { cold: values(cold, 'firstAudioMs').length, warm: values(warm, 'firstAudioMs').length },
    firstAudioMsP50: { cold: p50(values(cold, 'firstAudioMs')), warm: p50(values(warm, 'firstAudioMs')), coldOneAfterAnother: p50(sequential) },
    transcriptMsP50: { cold: p50(values(cold, 'transcriptMs')), warm: p50(values(warm, 'transcriptMs')) },
    recognizerLoadMsP50: { cold: p50(values(cold, 'recognizerLoadMs')), warm: p50(values(warm, 'recognizerLoadMs')) },
    voiceAloneMsP50: p50(voiceAlone),
    modelRequestsP50: { cold: p50(values(cold, 'modelRequests')), warm: p50(values(warm, 'modelRequests')) },
  };
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');
  console.log(`| start() → (p50 of ${RUNS}) | cold page | warm page | cold, one model after another |`);
  console.log('|---|---|---|---|');
  console.log(`| first answer audio | ${ms(summary.firstAudioMsP50.cold)} | ${ms(summary.firstAudioMsP50.warm)} | ${ms(summary.firstAudioMsP50.coldOneAfterAnother)} |`);
  console.log(`| final transcript | ${ms(summary.transcriptMsP50.cold)} | ${ms(summary.transcriptMsP50.warm)} | |`);
  console.log(`| recognizer load | ${ms(summary.recognizerLoadMsP50.cold)} | ${ms(summary.recognizerLoadMsP50.warm)} | |`);
  console.log(
    `\nAnswered: cold ${summary.answered.cold}/${RUNS}, warm ${summary.answered.warm}/${RUNS}. Model files requested over the network (p50): cold ${summary.modelRequestsP50.cold}, warm ${summary.modelRequestsP50.warm}. Voice alone (say() → first words, fresh page): ${ms(summary.voiceAloneMsP50)}.`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/cold-start.json', JSON.stringify({ date: new Date().toISOString(), summary, cold, warm, voiceAlone, sequential }, null, 2));
  console.log('\nwrote bench/results/cold-start.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
