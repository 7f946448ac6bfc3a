/**
 * `switchboard simulate PLATFORM SCENARIO`: runs a platform simulator (DESIGN §6).
 */
import { SwitchboardError } from '../core/index.js';
import { SCENARIOS, SCENARIO_NAMES } from '../connectors/greenapi/scenarios.js';
import { GreenApiSimulator, GreenApiWebhookSender } from '../connectors/greenapi/simulator.js';

export interface SimulateOptions {
  target?: string;
  token?: string;
  port: number;
  instance: string;
  apiToken: string;
  retryDelay: number;
  list?: boolean;
}

/** Simulators available so far, with their scenarios. */
export const SIMULATORS: Record<string, readonly string[]> = { greenapi: SCENARIO_NAMES };

export function listScenarios(platform: string): string {
  if (platform !== 'greenapi') return '';
  return SCENARIO_NAMES.map((n) => `  ${n.padEnd(18)} ${SCENARIOS[n]?.description ?? ''}`).join('\n');
}

export async function simulate(platform: string, scenario: string | undefined, opts: SimulateOptions): Promise<void> {
  const scenarios = SIMULATORS[platform];
  if (!scenarios) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no simulator for "${platform}"; available: ${Object.keys(SIMULATORS).join(', ')}`);
  if (opts.list || !scenario) {
    process.stdout.write(`scenarios of ${platform}:\n${listScenarios(platform)}\n`);
    return;
  }
  const chosen = SCENARIOS[scenario];
  if (!chosen) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no scenario "${scenario}" for ${platform}; available: ${scenarios.join(', ')}`);
  const notifications = chosen.notifications({ idInstance: opts.instance, wid: '79876543210@c.us', now: Date.now() });

  if (opts.target) {
    // Webhook mode: deliver as GREEN-API does, one at a time, retrying until HTTP 200.
    const sender = new GreenApiWebhookSender({ url: opts.target, ...(opts.token ? { token: opts.token } : {}), retryDelayMs: opts.retryDelay, timeoutMs: 30_000 });
    for (const n of notifications) sender.send(n);
    process.stdout.write(`sending ${notifications.length} notifications of "${scenario}" to ${opts.target}\n`);
    await sender.drain();
    const s = sender.stats;
    process.stdout.write(`delivered ${s.sent}, attempts ${s.attempts}, failures ${s.failures}, statuses ${JSON.stringify(s.statuses)}\n`);
    await sender.close();
    return;
  }

  // Polling mode: serve the fake HTTP API with the scenario in the queue.
  const sim = new GreenApiSimulator({
    instances: [{ idInstance: opts.instance, apiTokenInstance: opts.apiToken }],
    port: opts.port,
    contacts: { '79001234567@c.us': { name: 'Ivan', contactName: 'Ivan Petrov' }, '79007654321@c.us': { name: 'Мария' } },
  });
  const url = await sim.start();
  for (const n of notifications) sim.enqueue(opts.instance, n);
  process.stdout.write(
    [
      `GREEN-API simulator on ${url} with ${notifications.length} notifications of "${scenario}" queued.`,
      'Point a connector at it:',
      `  - { id: wa-sim, platform: greenapi, polling: { apiUrl: "${url}", idInstance: "${opts.instance}", apiTokenInstance: "${opts.apiToken}", receiveTimeout: 5 } }`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const timer = setInterval(() => {
    const left = sim.queueLength(opts.instance);
    process.stderr.write(`queue ${left}, delivered ${sim.stats.deliveries}, deleted ${sim.stats.delete}\n`);
  }, 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  await sim.close();
}
