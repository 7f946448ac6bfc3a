// The demo page's own code: the browser module as an app would use it. Bundled by demo/serve.mjs.
// Query: server (Switchboard base URL), token (the connector's ingestToken), connector, widget
// (the widget frame's origin), foreign (the foreign frame's origin), scenario, flushMs.
import { createListener } from '../src/client/index.ts';

const q = new URLSearchParams(location.search);
const server = q.get('server');
const token = q.get('token');
const connector = q.get('connector') || 'widget-web';
const widgetOrigin = q.get('widget') || '';
const foreignOrigin = q.get('foreign') || '';
const scenario = q.get('scenario') || 'answered-call';
const flushMs = Number(q.get('flushMs') || 500);

/** What the test reads: every window message by origin, the events handed out, the errors. */
const demo = { received: {}, events: [], errors: [], widgetDone: null, foreignDone: null };
window.__demo = demo;

// Counts every message the window gets, before the module filters anything.
window.addEventListener('message', (e) => {
  demo.received[e.origin] = (demo.received[e.origin] || 0) + 1;
  if (e.data && e.data.demo === 'widget-done' && e.origin === widgetOrigin) demo.widgetDone = e.data;
  if (e.data && e.data.demo === 'foreign-done') demo.foreignDone = e.data;
});

const listener = createListener({
  widgetOrigins: [widgetOrigin],
  forward: server && token ? { widget: { url: server, connectorId: connector, token, flushMs } } : undefined,
  onError(err, input) {
    demo.errors.push({ code: err.code, message: err.message, status: err.status, input });
    const li = document.createElement('li');
    li.textContent = `${err.code}: ${err.message}`;
    document.getElementById('errors').append(li);
  },
});
demo.listener = listener;

listener.on('*', (e) => {
  demo.events.push({ id: e.id, type: e.type, subject: e.subject, time: e.time });
  const tr = document.createElement('tr');
  for (const v of [e.type, e.subject, e.time.slice(11, 23)]) {
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(td);
  }
  document.getElementById('events').append(tr);
});
listener.on('call.*', () => {
  document.getElementById('calls').textContent = JSON.stringify(listener.calls(), null, 2);
});
setInterval(() => {
  document.getElementById('stats').textContent = JSON.stringify(listener.stats(), null, 2);
}, 250);

listener.attachWindow(window);

document.getElementById('widget-origin').textContent = widgetOrigin;
document.getElementById('server').textContent = server ? `${server}/ingest/${connector}` : '(no server: nothing is forwarded)';

function frame(src, title) {
  const f = document.createElement('iframe');
  f.src = src;
  f.title = title;
  document.getElementById('frames').append(f);
}
const parent = encodeURIComponent(location.origin);
frame(`${widgetOrigin}/widget.html?scenario=${encodeURIComponent(scenario)}&parent=${parent}`, 'call widget');
if (foreignOrigin) frame(`${foreignOrigin}/foreign.html?parent=${parent}`, 'foreign frame');
