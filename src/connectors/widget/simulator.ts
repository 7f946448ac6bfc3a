/**
 * The call widget simulator (DESIGN §6): sends a scenario to a Switchboard ingest URL the way a
 * relay does — web messages as the page relays them (stamped with a timestamp), or mobile SDK
 * codes as an app relays them (`{ code, callId, timestamp, data }`). The demo page
 * (`demo/serve.mjs`) is the other half: a fake widget that posts the same web messages to a page.
 *
 * @example
 * import { sendWidgetScenario } from './simulator.js';
 * const r = await sendWidgetScenario({ target: 'http://127.0.0.1:8080/ingest/widget-web', token, scenario: 'answered-call', form: 'mobile' });
 * // r.accepted === 8
 */
import { WIDGET_SCENARIOS, WIDGET_SCENARIO_NAMES } from './scenarios.js';

export { WIDGET_SCENARIOS, WIDGET_SCENARIO_NAMES };
export type { WidgetScenario, WidgetWebMessage, WidgetMobileMessage } from './scenarios.js';

import { sendPayloads, type SendScenarioOptions, type SendScenarioResult } from '../relay.js';

export { sendPayloads, type SendScenarioOptions, type SendScenarioResult };

/**
 * Sends a widget scenario to an ingest URL: `form: 'web'` the web messages stamped with their
 * time (as the browser module relays them), `form: 'mobile'` the relayed mobile codes.
 */
export async function sendWidgetScenario(opts: SendScenarioOptions & { form?: 'web' | 'mobile' }): Promise<SendScenarioResult> {
  const chosen = WIDGET_SCENARIOS[opts.scenario];
  if (!chosen) throw new Error(`no widget scenario "${opts.scenario}"; available: ${WIDGET_SCENARIO_NAMES.join(', ')}`);
  const now = opts.now ?? Date.now();
  const payloads = opts.form === 'mobile' ? chosen.mobile({ now }) : chosen.web({ now, stamped: true });
  return sendPayloads(opts.target, opts.token, payloads, opts);
}
