export * from './state-change.ts';
export * from './speech-start.ts';
export * from './speech-end.ts';
export * from './level.ts';
export * from './model-progress.ts';
export * from './error.ts';
export * from './transcript.ts';
export * from './debug.ts';
