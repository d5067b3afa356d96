/**
 * The Content-Security-Policy the built demo is tested under (tests/e2e/csp.spec.ts) and
 * that README "Content-Security-Policy" documents, word for word. One directive a line,
 * each with the reason it is there; the header is the directives joined with `; `.
 * Each allowance was checked by taking it out (README says what then breaks).
 */
export const CSP_DIRECTIVES = [
  // Nothing is allowed unless a directive below allows it (no media-src, font-src,
  // object-src, frame-src: the element needs none).
  "default-src 'none'",
  // The module scripts, the audio worklet and — through worker-src's fallback to
  // script-src — every worker (VAD, recognizer, TTS, espeak-ng phonemizer, onnxruntime's
  // threads): all files of the page's origin. 'wasm-unsafe-eval' lets onnxruntime-web and
  // espeak-ng compile their WebAssembly; it allows no JavaScript eval.
  "script-src 'self' 'wasm-unsafe-eval'",
  // Models, wasm, espeak-ng data and the LLM endpoint (same origin here). blob: for the
  // espeak-ng phonemizer: piper-tts-web's worker only takes URLs for its wasm and data, so
  // the TTS worker hands it blob: URLs of the bytes it downloaded (and cached) itself.
  "connect-src 'self' blob:",
  // The demo page's stylesheet file (the element's own styles are constructed
  // stylesheets, which style-src does not govern).
  "style-src 'self'",
  // The demo page's favicon.
  "img-src 'self'",
  // Not covered by default-src: no <base>, no form submissions, no framing.
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
] as const;

export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ');
