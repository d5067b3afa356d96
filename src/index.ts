/**
 * voice-agent: the public entry. Importing it defines `<voice-agent>` (once: a second copy
 * of the module leaves the first definition in place and says so).
 */
import { VoiceAgent } from './class.ts';

export * from './class.ts';

if (!customElements.get('voice-agent')) {
  customElements.define('voice-agent', VoiceAgent);
} else if (customElements.get('voice-agent') !== VoiceAgent) {
  console.warn('<voice-agent>: another copy of voice-agent.js already defined the element; this copy is unused.');
}
