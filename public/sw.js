/*
 * The demo's service worker (not part of the element; a page author's site has its own):
 * after one visit, the demo's shell works with the network off. Network first, so an online
 * visit always gets the current build; every same-origin GET that succeeds is kept, and
 * served when the network fails.
 *
 * Left to the element's own Cache Storage (not duplicated here): the model files under
 * /models/ (the recognizer's in `transformers-cache`, the voice's, Silero's and Smart
 * Turn's in `voice-agent-models`). Range requests (a resumed download) go to the network.
 */
const CACHE = 'voice-agent-demo-shell';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.headers.has('range') || (url.pathname.startsWith('/models/') && url.pathname !== '/models/')) return;
  event.respondWith(networkFirst(request, event));
});

async function networkFirst(request, event) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200) event.waitUntil(cache.put(request, response.clone()).catch(() => {}));
    return response;
  } catch (error) {
    // ignoreVary: the server varies on Origin, which module scripts send and the demo's
    // re-fetch of its shell does not; the bytes are the same.
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}
