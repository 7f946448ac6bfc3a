/**
 * The simulators deliver what just happened: no scenario stamps a time after the moment it is
 * built for (`now`), and each ends at `now` rather than minutes before or after it.
 */
import { describe, expect, it } from 'vitest';
import { CONNECT1C_SCENARIO_NAMES, scenarioEvents } from '../src/connectors/connect1c/scenarios.js';
import { SCENARIOS as GREENAPI } from '../src/connectors/greenapi/scenarios.js';
import { connectorFor } from '../src/connectors/registry.js';
import { THREADS_SCENARIOS } from '../src/connectors/threads/scenarios.js';
import { TWIN_SCENARIOS } from '../src/connectors/twin/scenarios.js';
import { WIDGET_SCENARIOS } from '../src/connectors/widget/scenarios.js';
import type { SwitchboardEvent } from '../src/core/index.js';

const NOW = Date.parse('2026-12-07T10:00:00Z');

function normalized(platform: string, payloads: readonly unknown[]): SwitchboardEvent[] {
  const n = connectorFor(platform)?.normalize;
  if (!n) throw new Error(platform);
  return payloads.flatMap((p) => {
    try {
      return n(p, { connectorId: platform, receivedAt: new Date(NOW).toISOString() });
    } catch {
      return []; // the scenarios of malformed input
    }
  });
}

/** Every scenario of every platform, as native payloads built for `NOW`. */
function all(): [string, string, unknown[]][] {
  return [
    ...Object.entries(GREENAPI).map(([n, s]): [string, string, unknown[]] => ['greenapi', n, s.notifications({ idInstance: '1101', wid: '79876543210@c.us', now: NOW })]),
    ...Object.entries(WIDGET_SCENARIOS).flatMap(([n, s]): [string, string, unknown[]][] => [
      ['widget', `${n} (web)`, s.web({ now: NOW, stamped: true })],
      ['widget', `${n} (mobile)`, s.mobile({ now: NOW })],
    ]),
    ...Object.entries(THREADS_SCENARIOS).map(([n, s]): [string, string, unknown[]] => ['threads', n, s.pushes({ now: NOW })]),
    ...CONNECT1C_SCENARIO_NAMES.map((n): [string, string, unknown[]] => ['connect1c', n, scenarioEvents(n, { now: NOW })]),
    ...Object.entries(TWIN_SCENARIOS).map(([n, s]): [string, string, unknown[]] => ['twin', n, s.publications().map((data, i) => ({ channel: 'notifications', offset: i + 1, data }))]),
  ];
}

describe('simulator times', () => {
  it('no scenario stamps a time after the moment it is built for', () => {
    for (const [platform, name, payloads] of all()) {
      const timed = normalized(platform, payloads).filter((e) => e.timesource !== 'receipt');
      for (const e of timed) expect(Date.parse(e.time), `${platform} ${name}: ${e.type} at ${e.time}`).toBeLessThanOrEqual(NOW);
    }
  });

  it('each scenario built for now ends now (TWIN replays fixed recorded times)', () => {
    for (const [platform, name, payloads] of all()) {
      if (platform === 'twin') continue;
      const times = normalized(platform, payloads)
        .filter((e) => e.timesource !== 'receipt' && e.type !== 'native.unmapped')
        .map((e) => Date.parse(e.time));
      if (times.length === 0) continue;
      expect(NOW - Math.max(...times), `${platform} ${name} ends ${(NOW - Math.max(...times)) / 1000} s before now`).toBeLessThan(60_000);
    }
  });
});
