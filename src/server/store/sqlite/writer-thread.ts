/**
 * The entry of the SQLite writer thread (`node:worker_threads`): a `SqliteWriter` on its own
 * connection, answering the store's calls one after the other, in the order they were sent.
 * A request is `{ id, method, args }`; the answer `{ id, value }` or `{ id, error: WireError }`.
 */
import { parentPort } from 'node:worker_threads';
import { SqliteWriter, toWireError } from './writer.js';
import type { WriterRequest } from './writer-link.js';

const port = parentPort;
if (!port) throw new Error('writer-thread.js runs as a worker thread only');
const writer = new SqliteWriter();
let chain: Promise<void> = Promise.resolve();

port.on('message', (msg: WriterRequest) => {
  chain = chain.then(async () => {
    // A test hook: the thread dies as on a crash, with the calls after this one unanswered.
    if (msg.method === '__crash') process.exit(70);
    try {
      const value = await writer.call(msg.method, msg.args);
      port.postMessage({ id: msg.id, value });
    } catch (err) {
      port.postMessage({ id: msg.id, error: toWireError(msg.method, err) });
    }
  });
});
