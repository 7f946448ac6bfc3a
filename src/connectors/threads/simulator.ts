/**
 * The Threads push sender (DESIGN §6): sends a scenario's push payloads to a Switchboard ingest
 * URL as an app (or its backend) relays them: as they arrive, one request each, or one array.
 *
 * @example
 * import { sendThreadsScenario } from './simulator.js';
 * const r = await sendThreadsScenario({ target: 'http://127.0.0.1:8080/ingest/threads-app', token, scenario: 'handover' });
 */
import { sendPayloads, type SendScenarioOptions, type SendScenarioResult } from '../relay.js';
import { THREADS_SCENARIOS, THREADS_SCENARIO_NAMES } from './scenarios.js';

export { THREADS_SCENARIOS, THREADS_SCENARIO_NAMES };
export type { ThreadsScenario, ThreadsPush } from './scenarios.js';
export type { SendScenarioOptions, SendScenarioResult };

/** Sends a Threads scenario's pushes to an ingest URL. */
export async function sendThreadsScenario(opts: SendScenarioOptions): Promise<SendScenarioResult> {
  const chosen = THREADS_SCENARIOS[opts.scenario];
  if (!chosen) throw new Error(`no Threads scenario "${opts.scenario}"; available: ${THREADS_SCENARIO_NAMES.join(', ')}`);
  return sendPayloads(opts.target, opts.token, chosen.pushes({ now: opts.now ?? Date.now() }), opts);
}
