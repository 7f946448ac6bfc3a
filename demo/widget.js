// The fake call widget: plays a scenario's web messages to the parent page with postMessage,
// as the real widget does (no timestamp: the page's module stamps them). Bundled by demo/serve.mjs.
import { WIDGET_SCENARIOS } from '../src/connectors/widget/scenarios.ts';

const q = new URLSearchParams(location.search);
const parentOrigin = q.get('parent') || '*';
const gapMs = Number(q.get('gap') || 150);
const name = q.get('scenario') || 'answered-call';
const scenario = WIDGET_SCENARIOS[name];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function play() {
  if (!scenario) {
    document.getElementById('status').textContent = `no scenario "${name}"`;
    return;
  }
  const messages = scenario.web({ now: Date.now() });
  document.getElementById('status').textContent = `${name}: ${scenario.description}`;
  // Widgets post other things too (sizes): not `{ subject, payload }`, so the page ignores them.
  window.parent.postMessage({ type: 'resize', height: 260 }, parentOrigin);
  for (const m of messages) {
    await sleep(gapMs);
    window.parent.postMessage(m, parentOrigin);
    const li = document.createElement('li');
    li.textContent = m.payload.type === 'state' ? `state ${m.payload.data.state}` : m.payload.type;
    document.getElementById('sent').append(li);
  }
  window.parent.postMessage({ demo: 'widget-done', count: messages.length, subject: messages[0]?.subject }, parentOrigin);
}

document.getElementById('again').addEventListener('click', () => void play());
void play();
