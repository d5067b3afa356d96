/**
 * Silero VAD v5 on onnxruntime-web (WASM, one thread).
 *
 * The model file is the one shipped in `@ricky0123/vad-web`'s `dist/`; the call mirrors
 * vad-web's own `Silero` class (and silero-vad's `OnnxWrapper`): each 512-sample frame
 * is prefixed with the last 64 samples of the previous one, so an onset that straddles
 * a frame boundary is seen whole, and the recurrent state is carried between calls.
 * We call the session directly instead of importing vad-web's CommonJS internals.
 */
import type * as Ort from 'onnxruntime-web/wasm';

const CONTEXT_SAMPLES = 64;
const STATE_SIZE = 2 * 1 * 128;

export class SileroVad {
  private state: Ort.Tensor;
  private context = new Float32Array(CONTEXT_SAMPLES);
  private readonly sampleRate: Ort.Tensor;

  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    sampleRateHz: number,
  ) {
    this.state = this.freshState();
    this.sampleRate = new ort.Tensor('int64', BigInt64Array.from([BigInt(sampleRateHz)]), [1]);
  }

  static async create(ort: typeof Ort, model: ArrayBuffer, sampleRateHz: number): Promise<SileroVad> {
    const session = await ort.InferenceSession.create(new Uint8Array(model), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    return new SileroVad(ort, session, sampleRateHz);
  }

  /** Speech probability (0..1) of one frame. Calls must not overlap. */
  async process(frame: Float32Array): Promise<number> {
    const input = new Float32Array(CONTEXT_SAMPLES + frame.length);
    input.set(this.context, 0);
    input.set(frame, CONTEXT_SAMPLES);
    this.context = frame.slice(frame.length - CONTEXT_SAMPLES);
    const output = await this.session.run({
      input: new this.ort.Tensor('float32', input, [1, input.length]),
      state: this.state,
      sr: this.sampleRate,
    });
    const next = output['stateN'];
    const probability = output['output']?.data[0];
    if (!next || typeof probability !== 'number') throw new Error('Silero returned no output');
    this.state.dispose();
    this.state = next;
    return probability;
  }

  /** Forgets the recurrent state (between independent streams). */
  reset(): void {
    this.state.dispose();
    this.state = this.freshState();
    this.context = new Float32Array(CONTEXT_SAMPLES);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private freshState(): Ort.Tensor {
    return new this.ort.Tensor('float32', new Float32Array(STATE_SIZE), [2, 1, 128]);
  }
}
