// Switchboard as a library: typed handlers, ingest, and reading the log.
// Run after `npm ci`: node examples/library.mjs   (writes ./data/example.db)
import { createSwitchboard } from 'switchboard';

const sb = createSwitchboard({
  store: { sqlite: './data/example.db' },
  server: { apiToken: 'example-token-change-me' },
  connectors: [{ id: 'wa', platform: 'greenapi' }],
  log: { level: 'warn' },
});

// In TypeScript, handlers are typed by the pattern: here `e.data` is the data of call.* events.
sb.on('call.*', (e) => {
  if (e.type === 'call.ended') console.log(`handler: call ${e.data.callId} ended: ${e.data.outcome} (${e.data.reason})`);
  else console.log(`handler: call ${e.data.callId}: ${e.type}`);
});

await sb.start({ listen: false });

const notification = (status) => ({
  typeWebhook: 'incomingCall',
  instanceData: { idInstance: 1101, wid: '79990000000@c.us', typeInstance: 'whatsapp' },
  timestamp: 1700000000,
  from: '79001234567@c.us',
  status,
  idMessage: 'EXAMPLE-CALL-1',
});

console.log('offer:', await sb.ingest('wa', notification('offer')));
console.log('declined:', await sb.ingest('wa', notification('declined')));
console.log('declined again:', await sb.ingest('wa', notification('declined'))); // a redelivery: a duplicate

for await (const e of sb.events({ type: 'call.*', after: 0, follow: false })) console.log('stored:', e.sequence, e.type);

await new Promise((r) => setTimeout(r, 200)); // let the handler print
await sb.close();
