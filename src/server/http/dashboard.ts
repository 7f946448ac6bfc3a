/**
 * A small built-in page at `/`: connector state and a live tail of events. It asks for the API
 * token once and keeps it in the browser's localStorage; it sends it only as a header. The live
 * tail's `EventSource` (which cannot set headers) opens `/v1/stream` with a one-use stream ticket,
 * and takes a new one, resuming after the last event shown, whenever the stream has to reconnect.
 */
import { EVENT_TYPES } from '../../core/index.js';

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
#tail td{font-family:ui-monospace,monospace;font-size:12px}#err{color:#b00}
</style></head><body>
<h1>Switchboard</h1>
<form id="login" hidden><label>API token <input id="token" type="password" size="40"></label> <button>Connect</button></form>
<p id="err"></p>
<h2>Connectors</h2><table id="connectors"><thead><tr><th>id</th><th>platform</th><th>events</th><th>quarantined</th><th>last event</th><th>state</th></tr></thead><tbody></tbody></table>
<h2>Live events</h2><table id="tail"><thead><tr><th>sequence</th><th>time</th><th>type</th><th>subject</th><th>platform</th></tr></thead><tbody></tbody></table>
<script>
const TYPES = ${JSON.stringify(EVENT_TYPES)};
const $ = (s) => document.querySelector(s);
const row = (values) => { const tr = document.createElement('tr'); for (const v of values) { const td = document.createElement('td'); td.textContent = v == null ? '' : String(v); tr.appendChild(td); } return tr; };
let token = localStorage.getItem('switchboard-token') || '';
let timer, es, retry, last;
const api = (path, init) => fetch(path, { ...init, headers: { authorization: 'Bearer ' + token } });
function login() { $('#login').hidden = false; $('#err').textContent = 'Enter the API token that switchboard serve printed.'; return false; }
async function refresh() {
  const r = await api('/v1/connectors');
  if (r.status === 401) return login();
  const { connectors } = await r.json();
  const body = $('#connectors tbody'); body.textContent = '';
  for (const c of connectors) body.appendChild(row([c.id, c.platform, c.events, c.quarantined, c.lastEvent && c.lastEvent.receivedAt, c.state || (c.ingest ? 'listening' : '')]));
  $('#err').textContent = '';
  return true;
}
function add(m) {
  const e = JSON.parse(m.data);
  last = m.lastEventId;
  const b = $('#tail tbody');
  b.insertBefore(row([e.sequence, e.time, e.type, e.subject, e.platform]), b.firstChild);
  while (b.children.length > 200) b.removeChild(b.lastChild);
}
// A ticket opens one stream: when the browser gives up reconnecting with a used one, take another.
async function stream() {
  clearTimeout(retry); if (es) es.close();
  const r = await api('/v1/stream/tickets', { method: 'POST' }).catch(() => null);
  if (r && r.status === 401) return login();
  if (!r || !r.ok) { retry = setTimeout(stream, 5000); return; }
  const q = new URLSearchParams({ ticket: (await r.json()).ticket });
  if (last) q.set('after', last);
  const source = es = new EventSource('/v1/stream?' + q);
  for (const t of TYPES) source.addEventListener(t, add);
  source.onerror = () => { if (source === es && source.readyState === EventSource.CLOSED) retry = setTimeout(stream, 2000); };
}
async function start() {
  clearInterval(timer); clearTimeout(retry); if (es) es.close();
  if (!(await refresh())) return;
  timer = setInterval(refresh, 5000);
  stream();
}
$('#login').addEventListener('submit', (ev) => { ev.preventDefault(); token = $('#token').value; localStorage.setItem('switchboard-token', token); $('#login').hidden = true; start(); });
start();
</script></body></html>`;
