/**
 * Smart Turn worker: Smart Turn v3.2 (a Whisper-encoder classifier, 8.7 MB) says whether
 * a turn's audio sounds finished. onnxruntime-web directly (WASM), like the VAD worker.
 *
 * The VAD worker asks over a MessagePort (see `connect`), so verdicts do not pass through
 * the main thread. One call runs at a time (a call costs a few hundred ms on the WASM
 * backend); a request still waiting when a newer one arrives is dropped as `superseded`:
 * only the latest pause's question matters.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/wasm';
import type { FileProgress } from '../src/platform/protocol.ts';
import type { EndOfTurnVerdict } from '../src/turns/semantic-end-of-turn.ts';
import {
  SUPERSEDED,
  type SmartTurnAssets,
  type SmartTurnPortApi,
  type SmartTurnWorkerApi,
} from '../src/turns/smart-turn-protocol.ts';
import { N_FRAMES, N_MELS, smartTurnFeatures } from '../src/turns/whisper-features.ts';
import { forgetModelBytes, loadModelBytes } from './model-bytes.ts';
import { fileNameOf, namedError } from './worker-utils.ts';
import { folderManifest } from './model-manifest.ts';

let session: ort.InferenceSession | null = null;
let loading: Promise<void> | null = null;
let inputName = 'input_features';
let outputName = 'logits';

/** The call running now (its promise), and the one waiting behind it. */
let running: Promise<unknown> | null = null;
let waiting: { audio: Float32Array; resolve: (v: EndOfTurnVerdict) => void; reject: (e: unknown) => void } | null = null;

async function run(audio: Float32Array): Promise<EndOfTurnVerdict> {
  if (!session) throw namedError('model-load-failed', 'Smart Turn is not loaded.');
  const started = performance.now();
  const features = smartTurnFeatures(audio);
  const featured = performance.now();
  const input = new ort.Tensor('float32', features, [1, N_MELS, N_FRAMES]);
  const outputs = await session.run({ [inputName]: input });
  const done = performance.now();
  const output = outputs[outputName];
  const probability = Number((output?.data as Float32Array | undefined)?.[0]);
  input.dispose();
  output?.dispose();
  if (!Number.isFinite(probability)) throw new Error('Smart Turn returned no probability.');
  return { probability, featuresMs: featured - started, inferenceMs: done - featured };
}

function judge(audio: Float32Array): Promise<EndOfTurnVerdict> {
  if (!running) {
    const call = run(audio);
    running = call;
    const next = () => {
      running = null;
      const queued = waiting;
      waiting = null;
      if (queued) judge(queued.audio).then(queued.resolve, queued.reject);
    };
    call.then(next, next);
    return call;
  }
  if (waiting) waiting.reject(namedError(SUPERSEDED, 'A newer end-of-turn request replaced this one.'));
  return new Promise((resolve, reject) => {
    waiting = { audio, resolve, reject };
  });
}

const portApi: SmartTurnPortApi = { judge };

const api: SmartTurnWorkerApi = {
  judge,

  async load(assets: SmartTurnAssets, onProgress: (progress: FileProgress) => void) {
    loading ??= (async () => {
      ort.env.wasm.numThreads = Math.max(1, assets.threads);
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = { wasm: assets.ortWasmUrl };
      const file = fileNameOf(assets.modelUrl);
      const bytes = await loadModelBytes(
        assets.modelUrl,
        `the end-of-turn model (Smart Turn, ${file})`,
        (progress) => void Promise.resolve(onProgress(progress)).catch(() => {}),
        { manifest: folderManifest(assets.manifestFolder, assets.localOnly === true), localOnly: assets.localOnly === true },
      );
      try {
        session = await ort.InferenceSession.create(new Uint8Array(bytes), {
          executionProviders: ['wasm'],
          graphOptimizationLevel: 'all',
        });
        inputName = session.inputNames.includes('input_features') ? 'input_features' : session.inputNames[0]!;
        outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]!;
        // Warm-up: the first run allocates; keep that cost out of the first pause.
        await run(new Float32Array(16_000));
      } catch (error) {
        await session?.release().catch(() => {});
        session = null;
        await forgetModelBytes(assets.modelUrl);
        throw namedError(
          'model-load-failed',
          `Could not start the end-of-turn model (${file}, ${assets.modelUrl}): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    })();
    try {
      await loading;
    } catch (error) {
      loading = null; // a later attempt retries
      throw error;
    }
  },

  async connect(port: MessagePort) {
    Comlink.expose(portApi, port);
  },

  async dispose() {
    waiting?.reject(namedError(SUPERSEDED, 'Smart Turn was disposed.'));
    waiting = null;
    await running?.catch(() => {});
    await session?.release();
    session = null;
    loading = null;
  },
};

Comlink.expose(api);
