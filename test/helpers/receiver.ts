/**
 * A webhook receiver for the delivery tests: a real HTTP server on loopback that verifies every
 * request with the `standardwebhooks` package, parses it with the `cloudevents` package, and
 * answers as the test says (a status, a slow answer past the timeout, a reset connection).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';

export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly delayMs?: number } | 'reset';

export interface Received {
  readonly n: number;
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly webhookId: string;
  /** The secret (index into `secrets`) that verified the signature, or -1. */
  readonly verifiedWith: number;
  readonly verifyError: string | undefined;
  readonly event: CloudEventV1<unknown> | undefined;
  readonly parseError: string | undefined;
  /** How the receiver answered. `ok` is true for a 2xx sent without delay. */
  readonly answer: Answer;
  readonly ok: boolean;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Secrets to verify with; the first that verifies is recorded. */
  secrets: string[];
  /** Decides each answer; by default 200. */
  decide: (r: { n: number; headers: IncomingHttpHeaders; body: string; event: CloudEventV1<unknown> | undefined }) => Answer;
  /** Requests answered 2xx without delay, by event id. */
  deliveredIds(): Map<string, number>;
  /** Requests open at once, now and at most so far. */
  readonly concurrency: { now: number; max: number };
  close(): Promise<void>;
}

function headerString(h: string | string[] | undefined): string {
  return Array.isArray(h) ? (h[0] ?? '') : (h ?? '');
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  let n = 0;
  const received: Received[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const receiver: Receiver = {
    url: '',
    received,
    concurrency: { now: 0, max: 0 },
    secrets: [],
    decide: () => ({ status: 200 }),
    deliveredIds() {
      const m = new Map<string, number>();
      for (const r of received) if (r.ok && r.event) m.set(r.event.id, (m.get(r.event.id) ?? 0) + 1);
      return m;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    receiver.concurrency.now++;
    receiver.concurrency.max = Math.max(receiver.concurrency.max, receiver.concurrency.now);
    res.once('close', () => receiver.concurrency.now--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers;
      const plain: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) plain[k] = headerString(v);
      let verifiedWith = -1;
      let verifyError: string | undefined;
      for (const [i, secret] of receiver.secrets.entries()) {
        try {
          new Webhook(secret).verify(body, plain);
          verifiedWith = i;
          break;
        } catch (err) {
          verifyError = (err as Error).message;
        }
      }
      if (verifiedWith >= 0) verifyError = undefined;
      let event: CloudEventV1<unknown> | undefined;
      let parseError: string | undefined;
      try {
        const parsed = HTTP.toEvent({ headers, body });
        event = (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEventV1<unknown>;
      } catch (err) {
        parseError = (err as Error).message;
      }
      const count = ++n;
      const answer = req.url === path ? receiver.decide({ n: count, headers, body, event }) : { status: 404 };
      const ok = answer !== 'reset' && answer.status >= 200 && answer.status < 300 && !answer.delayMs;
      received.push({ n: count, at: Date.now(), headers, body, webhookId: headerString(headers['webhook-id']), verifiedWith, verifyError, event, parseError, answer, ok });
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.status >= 300 ? `answer ${answer.status}` : 'ok');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  (receiver as { url: string }).url = `http://127.0.0.1:${port}${path}`;
  return receiver;
}

/** Waits until `check` answers true, polling; throws with `describe()` after the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
