/**
 * The widget and Threads simulators against a real Switchboard: every scenario gives the event
 * types it promises; the malformed Threads pushes are answered with a precise 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendThreadsScenario, THREADS_SCENARIOS } from '../src/connectors/threads/simulator.js';
import { sendWidgetScenario, WIDGET_SCENARIOS } from '../src/connectors/widget/simulator.js';
import { INGEST_TOKEN, apiHeaders, startTestServer, type TestServer } from './helpers/sb.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({
    connectors: [
      { id: 'widget-web', platform: 'widget', ingestToken: INGEST_TOKEN },
      { id: 'threads-app', platform: 'threads', ingestToken: INGEST_TOKEN },
    ],
  });
});
afterAll(async () => srv?.close());

async function typesAfter(connector: string, after: number): Promise<{ types: string[]; last: number }> {
  const res = await fetch(`${srv.url}/v1/events?connector=${connector}&after=${after}&limit=1000`, { headers: apiHeaders });
  const events = ((await res.json()) as { events: { type: string; sequence: string }[] }).events;
  return { types: events.map((e) => e.type), last: Number(events.at(-1)?.sequence ?? after) };
}

describe('simulators', () => {
  it('every scenario is listed with a description', () => {
    for (const s of [...Object.values(WIDGET_SCENARIOS), ...Object.values(THREADS_SCENARIOS)]) expect(s.description.length).toBeGreaterThan(20);
    expect(Object.keys(WIDGET_SCENARIOS)).toEqual(expect.arrayContaining(['answered-call', 'missed-call', 'redirected-call']));
    expect(Object.keys(THREADS_SCENARIOS)).toEqual(expect.arrayContaining(['handover', 'survey', 'schedule', 'close-request']));
  });

  it('sends each widget scenario, web and mobile, one request per message or batched; a second run does not dedupe the first', async () => {
    let after = 0;
    let now = Date.now();
    let answeredMobileNow = 0;
    for (const [name, sc] of Object.entries(WIDGET_SCENARIOS)) {
      for (const form of ['web', 'mobile'] as const) {
        for (const batch of [false, true]) {
          now += 1000;
          if (name === 'answered-call' && form === 'mobile') answeredMobileNow = now;
          const r = await sendWidgetScenario({ target: `${srv.url}/ingest/widget-web`, token: INGEST_TOKEN, scenario: name, form, batch, now });
          const expected = form === 'web' ? sc.webTypes : sc.mobileTypes;
          expect(r, `${name} ${form}`).toMatchObject({ sent: expected.length, accepted: expected.length, duplicates: 0, rejected: [] });
          const got = await typesAfter('widget-web', after);
          expect(got.types, `${name} ${form}`).toEqual(expected);
          after = got.last;
        }
      }
    }
    // The same run again: all duplicates.
    const again = await sendWidgetScenario({ target: `${srv.url}/ingest/widget-web`, token: INGEST_TOKEN, scenario: 'answered-call', form: 'mobile', now: answeredMobileNow });
    expect(again).toMatchObject({ accepted: 0, duplicates: 8 });
  });

  it('sends each Threads scenario; the malformed pushes get a precise 400 each', async () => {
    let after = 0;
    for (const [name, sc] of Object.entries(THREADS_SCENARIOS)) {
      const r = await sendThreadsScenario({ target: `${srv.url}/ingest/threads-app`, token: INGEST_TOKEN, scenario: name });
      if (name === 'malformed') {
        expect(r.statuses).toEqual([400, 400]);
        expect(r.rejected.map((x) => x.reason)).toEqual([expect.stringMatching(/^threads SURVEY: at text: malformed JSON/), "threads MESSAGE_EDITED: expected the message's uuid, providerId or backendId, found none"]);
        continue;
      }
      expect(r, name).toMatchObject({ accepted: sc.types.length, rejected: [] });
      const got = await typesAfter('threads-app', after);
      expect(got.types, name).toEqual(sc.types);
      after = got.last;
    }
    await expect(sendThreadsScenario({ target: `${srv.url}/ingest/threads-app`, scenario: 'nope' })).rejects.toThrow(/no Threads scenario "nope"; available: handover/);
  });
});
