/**
 * `switchboard events` run as the built CLI against a real server on loopback: the filters
 * (`--platform`, `--subject`, `--connector`, `--type`), `--limit`, and `--follow`, which prints the
 * recent history first and then follows from there with no gap and no repeat — even while events
 * are being committed as it starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIDGET_SCENARIOS } from '../src/connectors/widget/scenarios.js';
import { assertBuilt, closeHttp, fetchAllEvents, killAllChildren, runCli, sleep, type ApiEvent, type CliProcess } from './helpers/process.js';
import { API_TOKEN, INGEST_TOKEN, ingestHeaders, startTestServer, waCall, waMessage, type TestServer } from './helpers/sb.js';

interface Ev extends ApiEvent {
  readonly subject: string;
  readonly source: string;
  readonly platform: string;
}

describe('switchboard events', () => {
  let t: TestServer;
  let calls = 0;

  const ingest = async (connector: string, body: unknown) => {
    const res = await fetch(`${t.url}/ingest/${connector}`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const call = (connector = 'wa') => ingest(connector, waCall(`EV-CALL-${++calls}`, 'offer'));
  const widgetCall = () => ingest('w', WIDGET_SCENARIOS['answered-call']?.web({ now: Date.now() + ++calls * 60_000, stamped: true }) ?? []);
  const stored = async (query = '') => (await fetchAllEvents(t.url, API_TOKEN, query)) as Ev[];
  const cli = (...args: string[]) => runCli(['events', '--url', t.url, '--token', API_TOKEN, '--json', ...args]);
  const printed = (c: CliProcess): Ev[] =>
    c.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Ev);
  const done = async (c: CliProcess): Promise<Ev[]> => {
    const exit = await c.exited;
    expect(exit.code, c.stderr).toBe(0);
    return printed(c);
  };
  const waitForLines = async (c: CliProcess, n: number, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (printed(c).length < n) {
      if (!c.running) throw new Error(`events exited early:\n${c.stderr}`);
      if (Date.now() > deadline) throw new Error(`waited for ${n} events, got ${printed(c).length}\nstderr:\n${c.stderr}`);
      await sleep(20);
    }
    return printed(c);
  };
  const seqs = (list: readonly Ev[]) => list.map((e) => e.sequence);

  beforeAll(async () => {
    assertBuilt();
    t = await startTestServer({
      connectors: [
        { id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN },
        { id: 'wa2', platform: 'greenapi', ingestToken: INGEST_TOKEN },
        { id: 'w', platform: 'widget', ingestToken: INGEST_TOKEN },
      ] as never,
    });
    for (let i = 0; i < 12; i++) {
      await call();
      if (i % 3 === 0) await widgetCall();
      if (i % 4 === 0) await ingest('wa2', waMessage(`to wa2 #${i}`));
    }
  }, 60_000);
  afterAll(async () => {
    await killAllChildren();
    await closeHttp();
    await t.close();
  });

  it('--limit N prints the last N matching events, oldest first; with --after, the first N after it', async () => {
    const greenapi = await stored('&platform=greenapi');
    expect(seqs(await done(cli('--limit', '5', '--platform', 'greenapi')))).toEqual(seqs(greenapi.slice(-5)));
    const all = await stored();
    const from = all[3]?.sequence ?? '';
    expect(seqs(await done(cli('--after', from, '--limit', '3')))).toEqual(seqs(all.slice(4, 7)));
    expect(seqs(await done(cli('--limit', '1000')))).toEqual(seqs(all));
  });

  it('filters by --platform, --connector, --subject and --type, as GET /v1/events does', async () => {
    const widget = await done(cli('--platform', 'widget'));
    expect(widget.length).toBeGreaterThan(0);
    expect(seqs(widget)).toEqual(seqs(await stored('&platform=widget')));
    expect(new Set(widget.map((e) => e.platform))).toEqual(new Set(['widget']));
    const wa2 = await done(cli('--connector', 'wa2'));
    expect(wa2.length).toBe(3);
    for (const e of wa2) expect(e.source).toBe('switchboard/greenapi/wa2');
    const subject = (await stored('&connector=wa'))[1]?.subject ?? '';
    expect(subject).toMatch(/^call\/EV-CALL-/);
    const one = await done(cli('--subject', subject));
    expect(one.length).toBeGreaterThan(0);
    expect(new Set(one.map((e) => e.subject))).toEqual(new Set([subject]));
    expect(seqs(await done(cli('--subject', 'call/*', '--connector', 'wa', '--type', 'call.ringing')))).toEqual(seqs(await stored('&subject=call/*&connector=wa&type=call.ringing')));
    const bad = cli('--platform', 'telegram');
    expect((await bad.exited).code).not.toBe(0);
    expect(bad.stderr).toContain('telegram');
  });

  it('--follow prints the last 20 matching events, then new ones; --limit sets how many', async () => {
    const all = await stored();
    const f = cli('--follow');
    expect(seqs(await waitForLines(f, 20))).toEqual(seqs(all.slice(-20)));
    await sleep(300);
    expect(printed(f)).toHaveLength(20);
    await call();
    const after = await waitForLines(f, 21);
    expect(after[20]?.subject).toBe(`call/EV-CALL-${calls}`);

    const g = cli('--follow', '--limit', '3', '--connector', 'wa2');
    const wa2 = await stored('&connector=wa2');
    expect(seqs(await waitForLines(g, 3))).toEqual(seqs(wa2.slice(-3)));
    await call();
    await ingest('wa2', waMessage('new for wa2'));
    const next = await waitForLines(g, 4);
    expect(next[3]?.source).toBe('switchboard/greenapi/wa2');
    await sleep(300);
    expect(printed(g)).toHaveLength(4);
    await Promise.all([f.kill('SIGTERM'), g.kill('SIGTERM')]);
  });

  it('--follow --no-history prints only new events; --follow --after SEQ everything after SEQ and then new ones', async () => {
    const n = cli('--follow', '--no-history');
    const deadline = Date.now() + 15_000;
    while (!/following/.test(n.stderr) && Date.now() < deadline) await sleep(20);
    expect(n.stderr).toMatch(/following/);
    await sleep(200);
    expect(printed(n)).toHaveLength(0);
    await call();
    expect((await waitForLines(n, 1)).map((e) => e.subject)).toEqual([`call/EV-CALL-${calls}`]);

    const all = await stored();
    const from = all[all.length - 4]?.sequence ?? '';
    const a = cli('--follow', '--after', from);
    expect(seqs(await waitForLines(a, 3))).toEqual(seqs(all.slice(-3)));
    await Promise.all([n.kill('SIGTERM'), a.kill('SIGTERM')]);

    const both = cli('--follow', '--after', from, '--no-history');
    expect((await both.exited).code).not.toBe(0);
    expect(both.stderr).toMatch(/--after.*--no-history|--no-history.*--after/);
  });

  it('--follow started while events are being committed shows every matching event from its first one on, once each', async () => {
    const target = 'call.*';
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await call();
        await widgetCall();
      }
    })();
    let f: CliProcess;
    try {
      await sleep(100);
      f = cli('--follow', '--limit', '5', '--type', target);
      await waitForLines(f, 5);
      await sleep(500);
    } finally {
      writing = false;
      await writer;
    }
    const expected = await stored(`&type=${encodeURIComponent(target)}`);
    const first = printed(f)[0]?.sequence ?? '';
    const fromFirst = expected.filter((e) => e.sequence >= first);
    const lines = await waitForLines(f, fromFirst.length);
    await sleep(300);
    expect(seqs(printed(f))).toEqual(seqs(fromFirst));
    expect(lines.every((e) => e.type.startsWith('call.'))).toBe(true);
    await f.kill('SIGTERM');
  }, 60_000);
});
