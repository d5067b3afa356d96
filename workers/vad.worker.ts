/**
 * VAD worker: Silero v5 on every 32 ms frame, then the speech segmenter.
 *
 * Frames arrive straight from the capture worklet over a MessagePort (the main thread
 * never touches them); turn events go back through a comlink-proxied callback, with the
 * turn's audio transferred rather than copied.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/wasm';
import { wallClockMs } from '../src/platform/clock.ts';
import { median } from '../src/platform/stats.ts';
import { SilenceEndOfTurnPolicy, type EndOfTurnPolicy } from '../src/turns/end-of-turn.ts';
import { SMART_TURN_THRESHOLD, SemanticEndOfTurnPolicy, type EndOfTurnJudge } from '../src/turns/semantic-end-of-turn.ts';
import { SUPERSEDED, type SmartTurnPortApi } from '../src/turns/smart-turn-protocol.ts';
import type { TurnDetectionOptions } from '../src/platform/options.ts';
import {
  FRAME_SAMPLES,
  TARGET_SAMPLE_RATE_HZ,
  isCaptureFrameMessage,
  type VadAssets,
  type VadEvent,
  type VadFrameRecord,
  type VadWorkerApi,
} from '../src/platform/protocol.ts';
import { SpeechSegmenter, type SegmenterEvent } from '../src/turns/speech-segmenter.ts';
import { SileroVad } from './silero-vad.ts';
import { forgetModelBytes, loadModelBytes } from './model-bytes.ts';
import { namedError } from './worker-utils.ts';

/** Inference times kept for the per-turn cost figure. */
const TIMING_WINDOW = 512;

let vad: SileroVad | null = null;
let loading: Promise<void> | null = null;
let framePort: MessagePort | null = null;
let segmenter: SpeechSegmenter | null = null;
let speechThreshold = 0.5;
let emit: ((event: VadEvent) => void) | null = null;
/** Frames are processed strictly in order; this is the tail of that chain. */
let chain: Promise<void> = Promise.resolve();
let lastSpeechAt = 0;
const inferenceMs: number[] = [];
/** Debug reports: frame records not yet sent, or null when reporting is off. */
let frameRecords: VadFrameRecord[] | null = null;
const FRAME_REPORT_BATCH = 8;
/** Options received mid-turn, applied once the turn is over. */
let pendingOptions: TurnDetectionOptions | null = null;
let failed = false;
/** Smart Turn, reached directly over a port from its worker (when `end-of-turn="smart-turn"`). */
let endOfTurnJudge: (EndOfTurnJudge & { release(): void }) | null = null;
/** A verdict not yet attached to a debug frame record. */
let verdictRecord: VadFrameRecord['endOfTurn'] | null = null;

/**
 * A verdict that has not arrived after this long counts as a failed call: a Smart Turn
 * worker that died never answers. Longer than the policy's longest wait (a pending verdict
 * ends the pause at SMART_TURN_INCOMPLETE_SILENCE_MS anyway), so a slow but live model on
 * a busy machine is never cut short by it.
 */
const VERDICT_TIMEOUT_MS = 5000;

function connectJudge(port: MessagePort): EndOfTurnJudge & { release(): void } {
  const remote = Comlink.wrap<SmartTurnPortApi>(port);
  return {
    judge(audio) {
      const asked = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Smart Turn did not answer in time.')), VERDICT_TIMEOUT_MS);
      });
      const answer = remote.judge(Comlink.transfer(audio, [audio.buffer])).then((verdict) => {
        if (frameRecords) {
          const complete = verdict.probability > SMART_TURN_THRESHOLD;
          verdictRecord = { ...verdict, complete, roundTripMs: performance.now() - asked };
        }
        return verdict;
      });
      return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
    },
    release() {
      remote[Comlink.releaseProxy]();
      port.close();
    },
  };
}

function createPolicy(options: TurnDetectionOptions): EndOfTurnPolicy {
  if (options.endOfTurn !== 'smart-turn' || !endOfTurnJudge) return new SilenceEndOfTurnPolicy(options.silenceMs);
  return new SemanticEndOfTurnPolicy(endOfTurnJudge, {
    silenceMs: options.silenceMs,
    onFailure: (error) => {
      if (error instanceof Error && error.name === SUPERSEDED) return;
      console.warn(`<voice-agent>: end-of-turn verdict failed, using silence-ms for this pause: ${String(error)}`);
    },
  });
}

function createSegmenter(options: TurnDetectionOptions): SpeechSegmenter {
  speechThreshold = options.speechThreshold;
  return new SpeechSegmenter(
    { ...options, frameSamples: FRAME_SAMPLES, sampleRateHz: TARGET_SAMPLE_RATE_HZ },
    createPolicy(options),
  );
}

function deliver(events: readonly SegmenterEvent[]): void {
  const send = emit;
  if (!send) return;
  for (const event of events) {
    const emittedAt = wallClockMs();
    if (event.type === 'speech-end') {
      const stamped: VadEvent = { ...event, emittedAt, lastSpeechAt, vadMsPerFrame: median(inferenceMs) };
      void Promise.resolve(send(Comlink.transfer(stamped, [event.audio.buffer]))).catch(() => {});
    } else if (event.type === 'speech-audio') {
      void Promise.resolve(send(Comlink.transfer({ ...event, emittedAt }, [event.audio.buffer]))).catch(() => {});
    } else {
      void Promise.resolve(send({ ...event, emittedAt })).catch(() => {});
    }
  }
}

async function handleFrame(index: number, pcm: Float32Array): Promise<void> {
  if (!vad || !segmenter || failed) return;
  if (pendingOptions && !segmenter.inTurn) {
    segmenter = createSegmenter(pendingOptions);
    pendingOptions = null;
  }
  const started = performance.now();
  const probability = await vad.process(pcm);
  const cost = performance.now() - started;
  const at = wallClockMs();
  inferenceMs.push(cost);
  if (inferenceMs.length > TIMING_WINDOW) inferenceMs.shift();
  if (probability >= speechThreshold) lastSpeechAt = at;
  if (frameRecords) {
    const endOfTurn = verdictRecord;
    verdictRecord = null;
    frameRecords.push({ index, probability, inferenceMs: cost, at, ...(endOfTurn ? { endOfTurn } : {}) });
    if (frameRecords.length >= FRAME_REPORT_BATCH && emit) {
      const records = frameRecords;
      frameRecords = [];
      void Promise.resolve(emit({ type: 'frames', records, emittedAt: at })).catch(() => {});
    }
  }
  deliver(await segmenter.push(pcm, probability));
}

function reportFailure(error: unknown): void {
  if (failed) return; // one report, not one per frame
  failed = true;
  const send = emit;
  if (send) {
    const message = `Voice activity detection failed: ${error instanceof Error ? error.message : String(error)}`;
    void Promise.resolve(send({ type: 'failure', message, emittedAt: wallClockMs() })).catch(() => {});
  }
}

function detachPort(): void {
  if (framePort) {
    framePort.onmessage = null;
    framePort.close();
    framePort = null;
  }
}

const api: VadWorkerApi = {
  async load(assets: VadAssets, onProgress) {
    loading ??= (async () => {
      // Single-threaded on purpose: Silero is tiny (≈0.4 ms per frame) and threads need
      // cross-origin isolation, which a third-party embed cannot count on.
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = { wasm: assets.ortWasmUrl };
      const bytes = await loadModelBytes(assets.modelUrl, 'the voice activity detector (Silero VAD)', (progress) => {
        void Promise.resolve(onProgress(progress)).catch(() => {});
      });
      try {
        vad = await SileroVad.create(ort, bytes, TARGET_SAMPLE_RATE_HZ);
        // Warm-up: the first run allocates; keep that cost out of the first turn.
        await vad.process(new Float32Array(FRAME_SAMPLES));
        vad.reset();
      } catch (error) {
        await forgetModelBytes(assets.modelUrl);
        throw namedError('model-load-failed', `Could not start the voice activity detector: ${String(error)}`);
      }
    })();
    try {
      await loading;
    } catch (error) {
      loading = null; // let a later attempt retry instead of replaying the failure
      throw error;
    }
  },

  async start(frames, options, onEvent, reportFrames, endOfTurn) {
    if (!vad) throw namedError('model-load-failed', 'The voice activity detector is not loaded.');
    detachPort();
    endOfTurnJudge?.release();
    endOfTurnJudge = endOfTurn ? connectJudge(endOfTurn) : null;
    verdictRecord = null;
    vad.reset();
    inferenceMs.length = 0;
    failed = false;
    pendingOptions = null;
    frameRecords = reportFrames ? [] : null;
    segmenter = createSegmenter(options);
    emit = onEvent;
    framePort = frames;
    frames.onmessage = (event: MessageEvent<unknown>) => {
      const message = event.data;
      if (!isCaptureFrameMessage(message)) return;
      chain = chain.then(() => handleFrame(message.index, message.pcm)).catch(reportFailure);
    };
  },

  async configure(options) {
    // Applies from the next frame outside a turn: an open turn keeps its options.
    pendingOptions = options;
  },

  async beginManualTurn() {
    await chain;
    if (segmenter) deliver(segmenter.beginManualTurn());
  },

  async endManualTurn() {
    await chain;
    if (segmenter) deliver(segmenter.endManualTurn());
  },

  async dropTurn(onsetMs?: number) {
    segmenter?.dropTurn(onsetMs);
  },

  async trimTurn(onsetMs: number, keepMs: number) {
    segmenter?.trimTurn(onsetMs, keepMs);
  },

  async stop() {
    detachPort();
    await chain;
    segmenter?.reset();
    segmenter = null;
    emit = null;
    endOfTurnJudge?.release();
    endOfTurnJudge = null;
  },

  async dispose() {
    await api.stop();
    await vad?.release();
    vad = null;
    loading = null;
  },
};

Comlink.expose(api);
