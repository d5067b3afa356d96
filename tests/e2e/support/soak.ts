/**
 * The soak driver shared by `npm run bench:soak` (bench/soak.ts, 30 minutes by default)
 * and its 3-minute version in the suite (tests/e2e/soak.spec.ts).
 *
 * One long-lived page with the built element (real Silero, Whisper tiny.en and Piper) and
 * the scripted LLM server. The visitor's turns are real recordings (../shared/audio, with
 * their MANIFEST.tsv transcripts) played into the microphone when the driver decides
 * (tests/e2e/support/mic-mix.ts) rather than from one long WAV on a fixed schedule: on a
 * loaded machine a schedule drifts against the agent, and "a turn said while the agent
 * answers" must then be a barge-in by design, not by accident. The fake device itself
 * plays a short silence (it never loops back into speech after a microphone fault).
 *
 * Every 4th turn is a barge-in (said while the agent answers the previous one). Faults, one
 * after another: an LLM 500, an LLM stream that stalls after 3 tokens (`llm-stalled` after
 * the element's 10 s stall timeout), and the microphone track ending (`mic-ended`, then a
 * `devicechange` so the element listens again).
 *
 * Every ~30 s: the page's JS heap after a GC (CDP), the page's memory with its workers
 * (`performance.measureUserAgentSpecificMemory`, the page is cross-origin isolated), the
 * browser's processes' PSS (Linux /proc), and the live AudioContexts / workers / mic tracks.
 * The harness's own records are moved out of the page as the run goes (`drainingRecorder`),
 * so that the heap measured is the element's, not the test's.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CDPSession, Page } from '@playwright/test';
import { agentMarkup, openAgentPage, resourceCounts, type RecordedEvent } from './browser.ts';
import type { LlmServer } from './llm-server.ts';
import { micMixScript, sayIntoMic } from './mic-mix.ts';
import { matchTurns, type SpokenTurn, type TurnOutcome } from './soak-report.ts';
import { AUDIO_DIR, SCRATCH_DIR, readWav, silence, writeWav, type Pcm } from './wav.ts';

/** Short questions (2–3.5 s) with their reference transcripts in MANIFEST.tsv. */
export const SOAK_CLIPS = [
  'english-other/en_goforward.wav',
  'librispeech/test-clean/ls_test-clean_4507-16021-0012.wav',
  'english-other/en_cards_005.wav',
  'librispeech/test-clean/ls_test-clean_8455-210777-0068.wav',
  'english-other/en_cmuarctic_aew_a0003.wav',
  'librispeech/test-clean/ls_test-clean_61-70968-0002.wav',
  'english-other/en_cmuarctic_axb_a0004.wav',
  'librispeech/test-other/ls_test-other_1688-142285-0002.wav',
  'english-other/en_librivox_sense_and_sensibility_0880.wav',
  'librispeech/test-other/ls_test-other_1998-15444-0007.wav',
  'english-other/en_librivox_sense_and_sensibility_0930.wav',
  'librispeech/test-clean/ls_test-clean_2830-3980-0043.wav',
];

/** About 6 s of speech: long enough to be barged into, short enough for many turns. */
export const SOAK_REPLY = 'Sure, here is the answer. The harbour ferry leaves every hour, and the last one goes at nine in the evening.';

export const BARGE_IN_EVERY = 4;

export type SoakFault = 'llm-500' | 'llm-stall' | 'mic-ended';
export const FAULT_ORDER: readonly SoakFault[] = ['llm-500', 'llm-stall', 'mic-ended'];
/** The error code each fault must give; any other code is unexpected. */
export const FAULT_CODES: Record<SoakFault, string> = {
  'llm-500': 'llm-server-error',
  'llm-stall': 'llm-stalled',
  'mic-ended': 'mic-ended',
};

const SAMPLE_EVERY_MS = 30_000;
const ANSWER_TIMEOUT_MS = 90_000;

export interface ResourceSample {
  /** Ms since the run started. */
  readonly at: number;
  /** Main thread's used JS heap after a forced GC (CDP Runtime.getHeapUsage), bytes. */
  readonly mainHeapBytes: number;
  /** `measureUserAgentSpecificMemory()`: the page and its workers, bytes (NaN if unavailable). */
  readonly pageMemoryBytes: number;
  /** Sum of the PSS of the browser's processes, bytes (NaN off Linux). */
  readonly browserPssBytes: number;
  readonly audioContexts: number;
  readonly workers: number;
  readonly liveTracks: number;
}

export interface SoakResult {
  readonly durationMs: number;
  /** performance.timeOrigin-based wall time the run started (page clock). */
  readonly startedAtWall: number;
  readonly turns: TurnOutcome[];
  readonly faults: { at: number; fault: SoakFault }[];
  readonly errors: { at: number; code: string }[];
  readonly metrics: { at: number; voiceToVoiceMs: number }[];
  readonly samples: ResourceSample[];
  /** Ms since start when warm-up ended (the third answered turn). */
  readonly warmUpEndsAt: number;
}

export interface SoakOptions {
  /** Serves dist/ and /models. */
  readonly origin: string;
  readonly llm: LlmServer;
  readonly durationMs: number;
  readonly log?: (line: string) => void;
  /**
   * A folder: a heap snapshot of the page's main thread is written there at every sample
   * (`heap-<seconds>.heapsnapshot`, for bench/heap-diff.ts), to find what a growing heap holds.
   */
  readonly heapSnapshotDir?: string;
}

/**
 * The page's recorded events, kept here rather than there. The instrumentation
 * (browser.ts `instrument`, the soak's mic recorder) keeps every event, debug record and
 * turn's audio, and every AudioContext, worker and stream ever made, in page arrays; over a
 * soak those would grow the very heap being measured. Each call moves the new events out
 * and lets go of what is spent (closed contexts, terminated workers, ended streams), so
 * what the page still holds is the element's.
 */
function drainingRecorder(page: Page): () => Promise<RecordedEvent[]> {
  const kept: RecordedEvent[] = [];
  return async () => {
    const fresh = await page.evaluate(() => {
      const w = window as unknown as {
        __events: RecordedEvent[];
        __turnAudio: unknown[];
        __debug: unknown[];
        __vadFrames: unknown[];
        __audioContexts: AudioContext[];
        __workers: { terminated: boolean }[];
        __streams: MediaStream[];
        __soakMic: MediaStream[];
      };
      const events = w.__events;
      w.__events = [];
      w.__turnAudio.length = 0;
      w.__debug.length = 0;
      w.__vadFrames.length = 0;
      const live = (stream: MediaStream) => stream.getTracks().some((track) => track.readyState === 'live');
      w.__audioContexts = w.__audioContexts.filter((context) => context.state !== 'closed');
      w.__workers = w.__workers.filter((record) => !record.terminated);
      w.__streams = w.__streams.filter(live);
      w.__soakMic = w.__soakMic.slice(-1);
      return events;
    });
    kept.push(...fresh);
    return kept;
  };
}

/** MANIFEST.tsv: file → reference transcript. */
export function manifestTranscripts(): Map<string, string> {
  const lines = readFileSync(join(AUDIO_DIR, 'MANIFEST.tsv'), 'utf8').split('\n');
  const header = lines[0]!.split('\t');
  const file = header.indexOf('file');
  const transcript = header.indexOf('transcript');
  const map = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const cells = line.split('\t');
    if (cells[file]) map.set(cells[file]!, cells[transcript] ?? '');
  }
  return map;
}

/** Records the microphone stream the element gets (after the mic-mix), to end its track as a fault. */
const MIC_STREAM_RECORDER = `(() => {
  window.__soakMic = [];
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await gum(constraints);
    window.__soakMic.push(stream);
    return stream;
  };
})();`;

const state = (page: Page) => page.evaluate(() => document.querySelector('voice-agent')!.state);

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** PSS of the browser launched with `marker` in its command line, and of its descendants. */
function browserPss(marker: string): number {
  if (process.platform !== 'linux') return NaN;
  const parents = new Map<number, number>();
  let root = -1;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (root < 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) {
        // The first match may be a child that inherited the flag; climb to the topmost one.
        root = pid;
      }
    } catch {
      // The process ended while we looked.
    }
  }
  if (root < 0) return NaN;
  for (let up = parents.get(root); up && up > 1; up = parents.get(up)) {
    try {
      if (readFileSync(`/proc/${up}/cmdline`, 'utf8').includes(marker)) root = up;
    } catch {
      break;
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    try {
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += Number(pss?.[1] ?? 0) * 1024;
    } catch {
      // Gone, or not ours to read.
    }
  }
  return total;
}

export async function runSoak({ origin, llm, durationMs, log = () => {}, heapSnapshotDir }: SoakOptions): Promise<SoakResult> {
  const references = manifestTranscripts();
  const clips: { clip: string; reference: string; pcm: Pcm }[] = SOAK_CLIPS.map((clip) => {
    const reference = references.get(clip);
    if (reference === undefined) throw new Error(`${clip} is not in MANIFEST.tsv`);
    return { clip, reference, pcm: readWav(join(AUDIO_DIR, clip)) };
  });
  // A silence of its own name: the browser's command line carries it, which finds its processes.
  const micWav = writeWav(join(SCRATCH_DIR, `soak-silence-${process.pid}-${Date.now()}.wav`), {
    sampleRateHz: 16_000,
    samples: silence(2, 16_000),
  });
  llm.defaultReply = { text: SOAK_REPLY, tokenDelayMs: 20 };
  const opened = await openAgentPage({
    micWav,
    origin,
    body: agentMarkup(`llm-url="${llm.url}"`),
    initScripts: [micMixScript({ echoGain: 0, echoDelayMs: 0 }), MIC_STREAM_RECORDER],
    permissions: ['local-network-access'],
    extraArgs: ['--enable-blink-features=ForceEagerMeasureMemory'],
  });
  const { page } = opened;
  const cdp = await page.context().newCDPSession(page);
  const recorded = drainingRecorder(page);
  const spoken: SpokenTurn[] = [];
  const faults: { at: number; fault: SoakFault }[] = [];
  const samples: ResourceSample[] = [];
  try {
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await page.evaluate(() => document.querySelector('voice-agent')!.start());
    const startedAtWall = await page.evaluate(() => performance.timeOrigin + performance.now());
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    // Faults evenly spread: every quarter of the run, at most 3 minutes apart.
    const faultEveryMs = Math.min(durationMs / 4, 180_000);
    let lastSampleAt = -Infinity;

    const sample = async () => {
      await recorded();
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      const pageMemoryBytes = await page.evaluate(async () => {
        const measure = (performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> })
          .measureUserAgentSpecificMemory;
        if (!crossOriginIsolated || !measure) return NaN;
        const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 10_000));
        return Promise.race([measure.call(performance).then((m) => m.bytes), timeout]);
      });
      const counts = await resourceCounts(page);
      samples.push({ at: elapsed(), mainHeapBytes: usedSize, pageMemoryBytes, browserPssBytes: browserPss(micWav), ...counts });
      if (heapSnapshotDir) await writeHeapSnapshot(cdp, join(heapSnapshotDir, `heap-${Math.round(elapsed() / 1000)}.heapsnapshot`));
      lastSampleAt = elapsed();
    };

    const waitFor = async (wanted: string, timeoutMs: number) => until(async () => (await state(page)) === wanted, timeoutMs);

    let turn = 0;
    /** The LLM fault injected into the previous turn, if any: its answer fails (the apology is shown, not spoken). */
    let previousFault: SoakFault | undefined;
    while (elapsed() < durationMs) {
      // A barge-in talks into the previous turn's answer: there is none to talk into after a
      // failed one (waiting for it to be spoken only cost the 90 s answer timeout).
      const bargeIn = turn > 0 && turn % BARGE_IN_EVERY === 0 && previousFault === undefined;
      // Sample between turns, with the agent at rest (a barge-in's turn starts mid-answer).
      if (!bargeIn && elapsed() - lastSampleAt >= SAMPLE_EVERY_MS) await sample();
      const due = Math.floor(elapsed() / faultEveryMs) > faults.length && turn > 1 && !bargeIn;
      let fault: SoakFault | undefined;
      if (due) {
        fault = FAULT_ORDER[faults.length % FAULT_ORDER.length]!;
        faults.push({ at: elapsed(), fault });
        log(`fault at ${(elapsed() / 1000).toFixed(0)} s: ${fault}`);
      }
      if (fault === 'mic-ended') {
        // The microphone goes away while the agent listens, then a device appears again.
        await waitFor('listening', ANSWER_TIMEOUT_MS);
        await page.evaluate(() => {
          const track = (window as unknown as { __soakMic: MediaStream[] }).__soakMic.at(-1)!.getAudioTracks()[0]!;
          track.dispatchEvent(new Event('ended'));
        });
        await until(
          async () => (await recorded()).some((e) => e.type === 'voice-error' && e.detail['code'] === 'mic-ended' && e.wall > startedAtWall),
          30_000,
        );
        await until(async () => (await state(page)) !== 'listening', 30_000);
        await page.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));
        if (!(await waitFor('listening', 20_000))) {
          log('did not listen again after devicechange: pressing the button');
          await page.locator('voice-agent').locator('[part="button"]').click();
          await waitFor('listening', 20_000);
        }
        fault = undefined;
      }
      if (fault === 'llm-500') llm.script({ fault: { kind: 'status', status: 500 } });
      if (fault === 'llm-stall') llm.script({ text: SOAK_REPLY, tokenDelayMs: 20, fault: { kind: 'stall', afterTokens: 3, forMs: 30_000 } });

      const { clip, reference, pcm } = clips[turn % clips.length]!;
      if (bargeIn) {
        // Into the answer to the previous turn, a little after it starts.
        await waitFor('speaking', ANSWER_TIMEOUT_MS);
        await page.waitForTimeout(1000 + (turn % 3) * 300);
      } else {
        await waitFor('listening', ANSWER_TIMEOUT_MS);
      }
      const saidAt = await sayIntoMic(page, pcm);
      spoken.push({ clip, reference, saidAt, bargeIn, ...(fault ? { fault } : {}) });
      log(`turn ${turn + 1}${bargeIn ? ' (barge-in)' : ''} at ${(elapsed() / 1000).toFixed(0)} s: ${clip}`);
      await page.waitForTimeout((pcm.samples.length / pcm.sampleRateHz) * 1000 + 300);
      // Answered when the agent starts speaking; a turn whose LLM reply fails is answered by
      // the error and the apology shown instead (the apology is not spoken).
      const answered = await until(async () => {
        const events = (await recorded()).filter((e) => e.wall > saidAt);
        return events.some(
          (e) =>
            (e.type === 'voice-state-change' && e.detail['state'] === 'speaking') ||
            (fault !== undefined && e.type === 'voice-error' && String(e.detail['code']).startsWith('llm-')),
        );
      }, ANSWER_TIMEOUT_MS);
      if (!answered) log(`turn ${turn + 1}: no answer within ${ANSWER_TIMEOUT_MS / 1000} s (state ${await state(page)})`);
      previousFault = fault;
      turn++;
    }
    // Let the last answer finish, then a last sample at rest.
    await waitFor('listening', ANSWER_TIMEOUT_MS);
    await sample();

    const events = await recorded();
    const after = events.filter((e) => e.wall >= startedAtWall);
    const transcripts = after
      .filter((e) => e.type === 'voice-transcript' && e.detail['final'] && e.detail['source'] === 'speech')
      .map((e) => ({ wall: e.wall, text: String(e.detail['text']) }));
    const speakingStarts = after.filter((e) => e.type === 'voice-state-change' && e.detail['state'] === 'speaking').map((e) => e.wall);
    // A failed LLM reply is answered by its error (and the apology shown).
    const llmErrors = after.filter((e) => e.type === 'voice-error' && String(e.detail['code']).startsWith('llm-')).map((e) => e.wall);
    const turns = matchTurns(spoken, transcripts, speakingStarts, llmErrors);
    const sinceStart = (wall: number) => wall - startedAtWall;
    const metrics = after
      .filter((e) => e.type === 'voice-metrics' && typeof e.detail['voiceToVoiceMs'] === 'number')
      .map((e) => ({ at: sinceStart(e.wall), voiceToVoiceMs: Number(e.detail['voiceToVoiceMs']) }));
    const errors = events
      .filter((e) => e.type === 'voice-error')
      .map((e) => ({ at: sinceStart(e.wall), code: String(e.detail['code']) }));
    const thirdAnswer = speakingStarts[2];
    return {
      durationMs: elapsed(),
      startedAtWall,
      turns,
      faults,
      errors,
      metrics,
      samples,
      warmUpEndsAt: thirdAnswer === undefined ? 0 : sinceStart(thirdAnswer),
    };
  } finally {
    await opened.close();
  }
}

/** The page's main-thread heap, as DevTools would save it. */
async function writeHeapSnapshot(cdp: CDPSession, path: string): Promise<void> {
  const chunks: string[] = [];
  const collect = ({ chunk }: { chunk: string }) => chunks.push(chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', collect);
  try {
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    cdp.off('HeapProfiler.addHeapSnapshotChunk', collect);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, chunks.join(''));
}
