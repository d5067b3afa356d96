/**
 * The shipped {@link Phonemizer}: espeak-ng compiled to WebAssembly, as built by
 * piper-tts-web (its `dist/worker/PhonemizeWebWorker.js` with `dist/piper/
 * piper_phonemize.wasm` and `.data`, the espeak-ng data files). espeak-ng is GPL-3.0; it
 * stays a separately loaded asset, and this adapter is the only code that knows it.
 *
 * The piper-tts-web script is a complete worker with its own message protocol, so it runs
 * as a nested worker of the TTS worker. It runs piper-phonemize's `main()` once per text
 * and answers with Piper's native ids (built-in espeak map, `^`/`_`/`$` included) plus
 * those ids mapped back to symbols through the phoneme map we hand it — every
 * espeak-based Piper voice ships that same map. We take the symbols and rebuild the ids
 * ourselves (`phonemesToIds`), so the voice's own map decides.
 *
 * Its protocol has no request ids and no error replies: calls are strictly one at a time
 * here, and every call has a timeout, so a crash inside espeak cannot hang speech.
 */
import { BOS, EOS, PAD, type Phonemizer, type PiperVoiceConfig } from '../src/speaking/piper-voice.ts';
import type { FileProgress } from '../src/platform/protocol.ts';
import { loadModelBytes, namedError } from './worker-utils.ts';

/** Loading fetches ~18 MB of espeak-ng data (≈ 1 s from cache here); allow for slow links. */
const LOAD_TIMEOUT_MS = 120_000;
/** Phonemizing a clause takes 5–30 ms; anything near this means espeak is stuck. */
const CALL_TIMEOUT_MS = 10_000;

export interface EspeakAssets {
  readonly workerUrl: string;
  readonly wasmUrl: string;
  readonly dataUrl: string;
}

interface PhonemizeReply {
  readonly phonemes: readonly (string | null | undefined)[];
}

function isPhonemizeReply(data: unknown): data is PhonemizeReply {
  return typeof data === 'object' && data !== null && Array.isArray((data as { phonemes?: unknown }).phonemes);
}

export class EspeakPhonemizer implements Phonemizer {
  private worker: Worker | null = null;
  private loading: Promise<void> | null = null;
  /** The tail of the call chain: one request in flight at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private objectUrls: string[] = [];
  /** Receives download progress of the espeak-ng files while loading. */
  onProgress: ((progress: FileProgress) => void) | null = null;

  constructor(private readonly assets: EspeakAssets) {}

  load(): Promise<void> {
    this.loading ??= this.start().catch((error: unknown) => {
      this.dispose();
      throw error;
    });
    return this.loading;
  }

  async phonemize(text: string, voice: PiperVoiceConfig): Promise<string[][]> {
    await this.load();
    const run = this.chain.then(() =>
      this.call('phonemize', [text, [{ phoneme_id_map: voice.phonemeIdMap, espeak: { voice: voice.espeakVoice } }]], CALL_TIMEOUT_MS),
    );
    this.chain = run.catch(() => {});
    const reply = await run;
    if (!isPhonemizeReply(reply)) throw namedError('speech-failed', 'The phonemizer answered with something unexpected.');
    return toSentences(reply.phonemes);
  }

  dispose(): void {
    this.worker?.terminate();
    this.worker = null;
    this.loading = null;
    this.chain = Promise.resolve();
    for (const url of this.objectUrls) URL.revokeObjectURL(url);
    this.objectUrls = [];
  }

  private async start(): Promise<void> {
    // Fetched here rather than by the emscripten loader: a missing or wrong file becomes an
    // error naming it (the loader would only abort inside the nested worker), and the
    // 18 MB of espeak-ng data reports download progress like the models do.
    const progress = (p: FileProgress) => this.onProgress?.(p);
    const [wasm, data] = await Promise.all([
      loadModelBytes(this.assets.wasmUrl, 'the phonemizer (espeak-ng WebAssembly)', progress),
      loadModelBytes(this.assets.dataUrl, 'the phonemizer data (espeak-ng)', progress),
    ]);
    const wasmUrl = URL.createObjectURL(new Blob([wasm], { type: 'application/wasm' }));
    const dataUrl = URL.createObjectURL(new Blob([data], { type: 'application/octet-stream' }));
    this.objectUrls.push(wasmUrl, dataUrl);
    const worker = new Worker(this.assets.workerUrl, { type: 'module', name: 'voice-agent-phonemizer' });
    this.worker = worker;
    worker.postMessage({ type: 'constructor', data: {} });
    try {
      await this.call('loadModule', [wasmUrl, dataUrl], LOAD_TIMEOUT_MS);
    } catch (error) {
      throw namedError(
        'model-load-failed',
        `Could not start the phonemizer (espeak-ng, ${this.assets.workerUrl}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Posts one message and waits for the next reply, an error, or the timeout. */
  private call(type: string, data: unknown, timeoutMs: number): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(namedError('speech-failed', 'The phonemizer is not running.'));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.removeEventListener('message', onMessage);
        worker.removeEventListener('error', onError);
      };
      const onMessage = (event: MessageEvent<unknown>) => {
        done();
        resolve(event.data);
      };
      const onError = (event: ErrorEvent) => {
        event.preventDefault();
        done();
        // espeak's state is unknown after a crash: start a fresh worker next time.
        this.dispose();
        reject(namedError('speech-failed', `The phonemizer failed: ${event.message || 'error in its worker'}`));
      };
      const timer = setTimeout(() => {
        done();
        this.dispose();
        reject(namedError('speech-failed', `The phonemizer did not answer within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', onError);
      worker.postMessage({ type, data });
    });
  }
}

/** `^ _ h _ a _ $ ^ _ …` → `[['h', 'a'], …]`: sentences without markers and pads. */
export function toSentences(symbols: readonly (string | null | undefined)[]): string[][] {
  const sentences: string[][] = [];
  let current: string[] | null = null;
  for (const symbol of symbols) {
    if (symbol === BOS) {
      current = [];
    } else if (symbol === EOS) {
      if (current?.length) sentences.push(current);
      current = null;
    } else if (symbol !== PAD) {
      // An id missing from the map we passed comes back as undefined: keep a marker so it
      // is reported as dropped rather than silently vanishing.
      (current ??= []).push(symbol ?? '\u{fffd}');
    }
  }
  if (current?.length) sentences.push(current);
  return sentences;
}
