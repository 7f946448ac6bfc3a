/**
 * The framework's own floor: Fastify (the HTTP framework Switchboard runs on) with one JSON route
 * that answers 200 — its body parsed by Fastify's JSON parser, nothing else done. Prints
 * `listening <port>`.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/ingest/:connector', async () => ({ accepted: 1 }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${app.server.address().port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
