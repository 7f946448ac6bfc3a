/**
 * The ceiling: a bare node:http server that reads the body, parses the JSON and answers 200.
 * Prints `listening <port>`.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"malformed"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)) && server.closeAllConnections());
