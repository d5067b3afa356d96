import type { VoiceMetricsDetail } from '../events/metrics.ts';
import type { VoiceErrorDetail } from '../platform/errors.ts';
import type { FileProgress } from '../platform/protocol.ts';

/**
 * Latency of the turn being answered, for `voice-metrics`: from the end of the visitor's
 * speech (its last voiced frame) or the typed message to the transcript, the first token
 * and the first audio. Wall-clock times.
 */
export class TurnMetrics {
  private timing: {
    turnId: number;
    readonly source: 'speech' | 'text';
    readonly startedAt: number;
    readonly transcriptAt: number;
    firstTokenAt: number | null;
  } | null = null;

  /** A turn is handed to the responder at `now`; a spoken one began at `voicedUntil`. */
  answering(source: 'speech' | 'text', now: number, voicedUntil: number): void {
    const startedAt = source === 'speech' && voicedUntil ? voicedUntil : now;
    this.timing = { turnId: 0, source, startedAt, transcriptAt: now, firstTokenAt: null };
  }

  /** A responder took the turn (page `say()` calls have none and are not measured). */
  replyStarted(turnId: number): void {
    if (this.timing) this.timing.turnId = turnId;
  }

  firstToken(at: number): void {
    if (this.timing && this.timing.firstTokenAt === null) this.timing.firstTokenAt = at;
  }

  /** The measured turn's figures, once: at its first audio, or at its end (`firstAudioAt` null). */
  take(firstAudioAt: number | null): VoiceMetricsDetail | null {
    const timing = this.timing;
    if (!timing || timing.turnId === 0) return null;
    this.timing = null;
    const since = (at: number | null) => (at === null ? null : Math.max(0, at - timing.startedAt));
    return {
      turnId: timing.turnId,
      source: timing.source,
      transcriptMs: since(timing.transcriptAt)!,
      firstTokenMs: since(timing.firstTokenAt),
      firstAudioMs: since(firstAudioAt),
      voiceToVoiceMs: since(firstAudioAt),
    };
  }
}

/** At most this many captions are kept. */
export const MAX_CAPTIONS = 50;

export interface Caption {
  readonly id: number;
  readonly speaker: 'user' | 'agent' | 'note';
  readonly text: string;
}

/**
 * What a conversation shows besides its state: the captions, the last error, and the
 * share of the model downloads under way that has arrived. `changed` runs on every change.
 */
export class SessionDisplay {
  captions: readonly Caption[] = [];
  error: VoiceErrorDetail | null = null;
  /** Share of the model downloads under way that has arrived, or null when none is. */
  downloadFraction: number | null = null;
  private readonly files = new Map<string, FileProgress>();
  private captionId = 0;

  constructor(private readonly changed: () => void) {}

  addCaption(speaker: Caption['speaker'], text: string): void {
    const next = [...this.captions, { id: ++this.captionId, speaker, text }];
    this.captions = next.length > MAX_CAPTIONS ? next.slice(next.length - MAX_CAPTIONS) : next;
    this.changed();
  }

  setError(error: VoiceErrorDetail | null): void {
    if (error === this.error) return;
    this.error = error;
    this.changed();
  }

  /** Records download progress of one of `model`'s files. */
  progress(model: string, progress: FileProgress): void {
    this.files.set(`${model}/${progress.file}`, progress);
    let loaded = 0;
    let total = 0;
    for (const file of this.files.values()) {
      loaded += file.loaded;
      total += file.total || file.loaded;
    }
    const fraction = total > 0 && loaded < total ? loaded / total : null;
    if (fraction === this.downloadFraction) return;
    this.downloadFraction = fraction;
    this.changed();
  }
}
