/**
 * A small built-in page at `/`: connector state and a live tail of events. It asks for the API
 * token once and keeps it in the browser's localStorage.
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
let timer, es;
async function refresh() {
  const r = await fetch('/v1/connectors', { headers: { authorization: 'Bearer ' + token } });
  if (r.status === 401) { $('#login').hidden = false; $('#err').textContent = 'Enter the API token that switchboard serve printed.'; return false; }
  const { connectors } = await r.json();
  const body = $('#connectors tbody'); body.textContent = '';
  for (const c of connectors) body.appendChild(row([c.id, c.platform, c.events, c.quarantined, c.lastEvent && c.lastEvent.receivedAt, c.state || (c.ingest ? 'listening' : '')]));
  $('#err').textContent = '';
  return true;
}
function add(m) {
  const e = JSON.parse(m.data);
  const b = $('#tail tbody');
  b.insertBefore(row([e.sequence, e.time, e.type, e.subject, e.platform]), b.firstChild);
  while (b.children.length > 200) b.removeChild(b.lastChild);
}
async function start() {
  clearInterval(timer); if (es) es.close();
  if (!(await refresh())) return;
  timer = setInterval(refresh, 5000);
  es = new EventSource('/v1/stream?access_token=' + encodeURIComponent(token));
  for (const t of TYPES) es.addEventListener(t, add);
}
$('#login').addEventListener('submit', (ev) => { ev.preventDefault(); token = $('#token').value; localStorage.setItem('switchboard-token', token); $('#login').hidden = true; start(); });
start();
</script></body></html>`;
