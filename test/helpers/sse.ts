/** An SSE reader for tests: `GET /v1/stream` with the API token, parsed with eventsource-parser. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { expect } from 'vitest';
import { apiHeaders } from './sb.js';

export interface Received {
  id: string;
  event: string;
  data: { id: string; type: string; sequence: string; subject: string };
}

/** Reads an SSE stream until `count` events arrived, then disconnects. */
export async function readStream(url: string, headers: Record<string, string>, count: number, timeoutMs = 10_000): Promise<Received[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const out: Received[] = [];
  try {
    const res = await fetch(url, { headers: { ...apiHeaders, ...headers }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const parser = createParser({
      onEvent: (m: EventSourceMessage) => {
        // Events after the count in the same chunk count as never received: the client left.
        if (out.length >= count) return;
        out.push({ id: m.id ?? '', event: m.event ?? '', data: JSON.parse(m.data) as Received['data'] });
        if (out.length >= count) abort.abort();
      },
    });
    const decoder = new TextDecoder();
    const body = res.body;
    if (!body) throw new Error('no body');
    for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

