/**
 * The demo page's wiring (index.html): attribute panel, event log, per-turn timings.
 * Not part of the element; it only uses its public surface.
 */
import './index.ts';
import type { VoiceAgent } from './voice-agent.ts';

const agent = document.querySelector<VoiceAgent>('#agent')!;
const log = document.querySelector<HTMLElement>('#log')!;
const timings = document.querySelector<HTMLTableSectionElement>('#timings')!;
const level = document.querySelector<HTMLMeterElement>('#level')!;
const playTurn = document.querySelector<HTMLButtonElement>('#play-turn')!;
let lastTurn: Float32Array | null = null;
let turnCount = 0;

function write(line: string): void {
  const time = new Date().toLocaleTimeString(undefined, { hour12: false });
  log.textContent = `${time}  ${line}\n${log.textContent ?? ''}`.slice(0, 20_000);
}

// Use the local model folder when the dev/preview server mounts one (offline demos).
void fetch('./models/', { method: 'GET' })
  .then((response) => {
    if (response.ok && response.headers.get('content-type')?.includes('json') && !agent.hasAttribute('model-base-url')) {
      agent.setAttribute('model-base-url', new URL('./models', location.href).href);
      // The recognizer is the element's own choice: Moonshine for English on the CPU,
      // multilingual Whisper base otherwise (both in ../shared/models).
      for (const name of ['model-base-url']) {
        const control = document.querySelector<HTMLInputElement>(`[data-attr="${name}"]`);
        if (control) control.value = agent.getAttribute(name)!;
      }
      write('using local models at ./models');
    }
  })
  .catch(() => {});

// After one visit the demo works offline (public/sw.js keeps its shell; the element keeps
// the models in its own Cache Storage). Production builds only: Vite's dev server serves
// modules that change under the worker.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  void keepShellOffline().catch((error: unknown) => write(`offline: service worker not registered: ${String(error)}`));
}

/**
 * Registers the demo's service worker and, once it controls the page, fetches again what
 * this page loaded before it did (the page itself, its script and styles, the model-folder
 * probe), so that it is kept too: the worker can only keep what passes through it.
 */
async function keepShellOffline(): Promise<void> {
  await navigator.serviceWorker.register('/sw.js');
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
  }
  const modelProbe = new URL('./models/', location.href).href;
  const loaded = [location.href, modelProbe, ...performance.getEntriesByType('resource').map((entry) => entry.name)];
  const shell = loaded.filter((url) => {
    const { origin, pathname } = new URL(url);
    return origin === location.origin && (pathname === '/models/' || !pathname.startsWith('/models/'));
  });
  await Promise.all([...new Set(shell)].map((url) => fetch(url).catch(() => undefined)));
  write('offline: this page is kept by its service worker; after this visit it works with the network off');
}

// With no llm-url and no local-llm there is no language model: the page answers itself
// (the element's voice-turn / respondWith), so the demo holds a whole conversation with
// no server at all.
agent.addEventListener('voice-turn', (e) => {
  if (agent.llmUrl || agent.localLlm || !document.querySelector<HTMLInputElement>('#page-answers')!.checked) return;
  const heard = e.detail.text.trim();
  e.respondWith(`You said: ${heard} This answer comes from the page's own code; nothing left your device.`);
});

for (const control of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-attr]')) {
  control.addEventListener('change', () => {
    const name = control.dataset['attr']!;
    if (control.value === '') agent.removeAttribute(name);
    else agent.setAttribute(name, control.value);
    write(`set ${name}="${control.value}"`);
  });
}

document.querySelector('#preload')!.addEventListener('click', () => {
  void agent.preload().then(() => write('preload() resolved'), (error: unknown) => write(`preload() failed: ${String(error)}`));
});
document.querySelector('#start')!.addEventListener('click', () => void agent.start());
document.querySelector('#say-form')!.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = document.querySelector<HTMLInputElement>('#say-text')!.value;
  void agent.say(text).then(() => write('say() resolved'));
});
document.querySelector('#interrupt')!.addEventListener('click', () => agent.interrupt());
document.querySelector('#stop')!.addEventListener('click', () => void agent.stop());
playTurn.addEventListener('click', () => {
  if (!lastTurn) return;
  const context = new AudioContext();
  const buffer = context.createBuffer(1, lastTurn.length, 16_000);
  buffer.getChannelData(0).set(lastTurn);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  source.onended = () => void context.close();
  source.start();
});

agent.addEventListener('voice-state-change', (e) => write(`state ${e.detail.previous} → ${e.detail.state}`));
agent.addEventListener('voice-speech-start', (e) => write(`speech-start at ${Math.round(e.detail.startMs)} ms`));
agent.addEventListener('voice-speech-end', (e) => {
  const d = e.detail;
  lastTurn = d.audio;
  playTurn.disabled = false;
  write(`speech-end: ${d.durationMs.toFixed(0)} ms of audio, end-of-turn delay ${d.endOfTurnDelayMs.toFixed(0)} ms`);
  const row = timings.insertRow(0);
  for (const value of [
    String(++turnCount),
    (d.durationMs / 1000).toFixed(2),
    d.endOfTurnDelayMs.toFixed(0),
    d.vadMsPerFrame.toFixed(2),
  ]) {
    row.insertCell().textContent = value;
  }
});
agent.addEventListener('voice-transcript', (e) => {
  const d = e.detail;
  write(`transcript (${d.source}, ${d.final ? 'final' : 'partial'}, ${d.language}): ${d.text}`);
});
agent.addEventListener('voice-state-change', (e) => {
  // The recognizer is planned on the first start(); show what it chose and why.
  if (e.detail.previous === 'loading' && agent.capabilities) {
    const c = agent.capabilities;
    write(`speech recognizer: ${c.model} on ${c.device} (${c.reason})`);
  }
});
agent.addEventListener('voice-model-progress', (e) => {
  if (e.detail.loaded === e.detail.total) write(`downloaded ${e.detail.model}/${e.detail.file} (${(e.detail.total / 1e6).toFixed(1)} MB)`);
});
agent.addEventListener('voice-error', (e) => write(`error ${e.detail.code}: ${e.detail.message}`));
agent.addEventListener('voice-turn', (e) => write(`turn ${e.detail.turnId} (${e.detail.source}): ${e.detail.text}`));
agent.addEventListener('voice-level', (e) => {
  level.value = Math.max(-70, e.detail.dbfs);
});
agent.addEventListener('voice-response-end', (e) =>
  write(`response-end${e.detail.interrupted ? ' (interrupted)' : ''}: heard "${e.detail.heardText}"`),
);
