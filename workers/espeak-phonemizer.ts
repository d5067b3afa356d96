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
 * here, and every call has a timeout, so a crash inside espeak cannot hang speech; a
 * worker is also retired before espeak wears out (see {@link RECYCLE_AFTER_CALLS}).
 */
import { BOS, EOS, PAD, type Phonemizer, type PiperVoiceConfig } from '../src/speaking/piper-voice.ts';
import type { FileProgress } from '../src/platform/protocol.ts';
import { loadModelBytes } from './model-bytes.ts';
import { namedError } from './worker-utils.ts';

/** Loading fetches ~18 MB of espeak-ng data (≈ 1 s from cache here); allow for slow links. */
const LOAD_TIMEOUT_MS = 120_000;
/** Phonemizing a clause takes 5–30 ms; anything near this means espeak is stuck. */
const CALL_TIMEOUT_MS = 5_000;
/**
 * piper-tts-web runs espeak-ng's `main()` once per text, and something in it is never
 * freed: measured in headless Chromium, one worker stopped answering for good after 143
 * calls with a 25-character text and after 79 with a 169-character one (every call after
 * that hangs; the module throws "null function" / "memory access out of bounds" inside
 * the worker, where no error event reaches us). Clauses are at most 220 characters, which
 * by those two points allows about 68 calls. A worker is therefore retired after this many:
 * its successor is started in the background and takes over once it is loaded.
 */
export const RECYCLE_AFTER_CALLS = 32;

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

/** The espeak-ng files, in memory as blob: URLs for the workers' emscripten loader. */
interface LoadedFiles {
  readonly wasmUrl: string;
  readonly dataUrl: string;
}

export class EspeakPhonemizer implements Phonemizer {
  private files: Promise<LoadedFiles> | null = null;
  /** The worker answering calls (loading, or loaded). */
  private current: Promise<Worker> | null = null;
  /** Its successor, loading in the background once the current one is due to retire. */
  private successor: { worker: Promise<Worker>; ready: boolean } | null = null;
  /** Calls answered by the current worker. */
  private callsOnCurrent = 0;
  /** The tail of the call chain: one request in flight at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private objectUrls: string[] = [];
  /** Receives download progress of the espeak-ng files while loading. */
  onProgress: ((progress: FileProgress) => void) | null = null;
  /** Workers started so far (tests and debugging). */
  workersStarted = 0;

  constructor(private readonly assets: EspeakAssets) {}

  /** Downloads the espeak-ng files (once) and starts a worker; resolves when it can answer. */
  async load(): Promise<void> {
    this.current ??= this.startWorker();
    try {
      await this.current;
    } catch (error) {
      this.current = null;
      throw error;
    }
  }

  /**
   * espeak-ng's phonemes for `text`. A worker that crashes or stops answering is replaced
   * and the text phonemized once more on the new one (it is a pure function of the text).
   */
  async phonemize(text: string, voice: PiperVoiceConfig): Promise<string[][]> {
    await this.load();
    const args = [text, [{ phoneme_id_map: voice.phonemeIdMap, espeak: { voice: voice.espeakVoice } }]];
    const run = this.chain.then(() => this.phonemizeOnce(args).catch(() => this.phonemizeOnce(args)));
    this.chain = run.catch(() => {});
    const reply = await run;
    if (!isPhonemizeReply(reply)) throw namedError('speech-failed', 'The phonemizer answered with something unexpected.');
    return toSentences(reply.phonemes);
  }

  dispose(): void {
    for (const worker of [this.current, this.successor?.worker]) void worker?.then((w) => w.terminate()).catch(() => {});
    this.current = null;
    this.successor = null;
    this.files = null;
    this.chain = Promise.resolve();
    for (const url of this.objectUrls) URL.revokeObjectURL(url);
    this.objectUrls = [];
  }

  private async phonemizeOnce(args: unknown): Promise<unknown> {
    if (this.successor?.ready) {
      // The successor is loaded: it takes over between two calls.
      const retiring = this.current;
      this.current = this.successor.worker;
      this.successor = null;
      this.callsOnCurrent = 0;
      void retiring?.then((w) => w.terminate()).catch(() => {});
    }
    await this.load();
    const worker = await this.current!;
    try {
      const reply = await this.call(worker, 'phonemize', args, CALL_TIMEOUT_MS);
      if (++this.callsOnCurrent >= RECYCLE_AFTER_CALLS) this.startSuccessor();
      return reply;
    } catch (error) {
      // espeak's state is unknown after a crash or a hang: the next call starts afresh.
      if (this.current && (await this.current.catch(() => null)) === worker) {
        this.current = null;
        this.callsOnCurrent = 0;
      }
      worker.terminate();
      throw error;
    }
  }

  private startSuccessor(): void {
    if (this.successor) return;
    const successor = { worker: this.startWorker(), ready: false };
    this.successor = successor;
    successor.worker.then(
      () => {
        successor.ready = true;
      },
      () => {
        if (this.successor === successor) this.successor = null; // the current one serves on; tried again at the next call
      },
    );
  }

  /**
   * Fetched here rather than by the emscripten loader: a missing or wrong file becomes an
   * error naming it (the loader would only abort inside the nested worker), and the 18 MB
   * of espeak-ng data reports download progress like the models do. Once per phonemizer:
   * the workers that replace each other share them.
   */
  private loadFiles(): Promise<LoadedFiles> {
    this.files ??= (async () => {
      const progress = (p: FileProgress) => this.onProgress?.(p);
      const [wasm, data] = await Promise.all([
        loadModelBytes(this.assets.wasmUrl, 'the phonemizer (espeak-ng WebAssembly)', progress),
        loadModelBytes(this.assets.dataUrl, 'the phonemizer data (espeak-ng)', progress),
      ]);
      const wasmUrl = URL.createObjectURL(new Blob([wasm], { type: 'application/wasm' }));
      const dataUrl = URL.createObjectURL(new Blob([data], { type: 'application/octet-stream' }));
      this.objectUrls.push(wasmUrl, dataUrl);
      return { wasmUrl, dataUrl };
    })();
    this.files.catch(() => {
      this.files = null; // the next load tries the download again
    });
    return this.files;
  }

  private async startWorker(): Promise<Worker> {
    const { wasmUrl, dataUrl } = await this.loadFiles();
    const worker = new Worker(this.assets.workerUrl, { type: 'module', name: 'voice-agent-phonemizer' });
    this.workersStarted++;
    worker.postMessage({ type: 'constructor', data: {} });
    try {
      await this.call(worker, 'loadModule', [wasmUrl, dataUrl], LOAD_TIMEOUT_MS);
    } catch (error) {
      worker.terminate();
      throw namedError(
        'model-load-failed',
        `Could not start the phonemizer (espeak-ng, ${this.assets.workerUrl}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return worker;
  }

  /** Posts one message to `worker` and waits for its next reply, an error, or the timeout. */
  private call(worker: Worker, type: string, data: unknown, timeoutMs: number): Promise<unknown> {
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
        reject(namedError('speech-failed', `The phonemizer failed: ${event.message || 'error in its worker'}`));
      };
      const timer = setTimeout(() => {
        done();
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
