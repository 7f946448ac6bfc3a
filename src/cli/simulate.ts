/**
 * `switchboard simulate PLATFORM SCENARIO`: runs a platform simulator (DESIGN §6).
 */
import { SwitchboardError } from '../core/index.js';
import { SCENARIOS as GREENAPI_SCENARIOS } from '../connectors/greenapi/scenarios.js';
import { GreenApiSimulator, GreenApiWebhookSender } from '../connectors/greenapi/simulator.js';
import { CONNECT1C_SCENARIOS, scenarioEvents } from '../connectors/connect1c/scenarios.js';
import { Connect1cSimulator } from '../connectors/connect1c/simulator.js';
import { THREADS_SCENARIOS, sendThreadsScenario } from '../connectors/threads/simulator.js';
import { TWIN_SCENARIOS } from '../connectors/twin/scenarios.js';
import { WIDGET_SCENARIOS, sendWidgetScenario, type SendScenarioResult } from '../connectors/widget/simulator.js';
import { TwinSimulator } from '../connectors/twin/simulator.js';

export interface SimulateOptions {
  target?: string;
  token?: string;
  port: number;
  instance: string;
  apiToken: string;
  retryDelay: number;
  list?: boolean;
  pipe?: string;
  form?: 'web' | 'mobile';
}

interface Simulator {
  readonly scenarios: Readonly<Record<string, { readonly description: string }>>;
  run(scenario: string, opts: SimulateOptions): Promise<void>;
}

function print(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Resolves on Ctrl-C / SIGTERM, printing a status line every 5 s meanwhile. */
async function untilStopped(status: () => string): Promise<void> {
  const timer = setInterval(() => process.stderr.write(`${status()}\n`), 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
}

const greenapi: Simulator = {
  scenarios: GREENAPI_SCENARIOS,
  async run(scenario, opts) {
    const chosen = GREENAPI_SCENARIOS[scenario];
    if (!chosen) return;
    const notifications = chosen.notifications({ idInstance: opts.instance, wid: '79876543210@c.us', now: Date.now() });
    if (opts.target) {
      // Webhooks, as GREEN-API sends them: one at a time, retried until HTTP 200.
      const sender = new GreenApiWebhookSender({ url: opts.target, ...(opts.token ? { token: opts.token } : {}), retryDelayMs: opts.retryDelay, timeoutMs: 30_000 });
      for (const n of notifications) sender.send(n);
      print([`sending ${notifications.length} notifications of "${scenario}" to ${opts.target}`]);
      await sender.drain();
      const s = sender.stats;
      print([`delivered ${s.sent}, attempts ${s.attempts}, failures ${s.failures}, statuses ${JSON.stringify(s.statuses)}`]);
      await sender.close();
      return;
    }
    const sim = new GreenApiSimulator({
      instances: [{ idInstance: opts.instance, apiTokenInstance: opts.apiToken }],
      port: opts.port,
      contacts: { '79001234567@c.us': { name: 'Ivan', contactName: 'Ivan Petrov' }, '79007654321@c.us': { name: 'Мария' } },
    });
    const url = await sim.start();
    for (const n of notifications) sim.enqueue(opts.instance, n);
    print([
      `GREEN-API simulator on ${url} with ${notifications.length} notifications of "${scenario}" queued.`,
      'Point a connector at it:',
      `  - { id: wa-sim, platform: greenapi, polling: { apiUrl: "${url}", idInstance: "${opts.instance}", apiTokenInstance: "${opts.apiToken}", receiveTimeout: 5 } }`,
      'Ctrl-C to stop.',
    ]);
    await untilStopped(() => `queue ${sim.queueLength(opts.instance)}, delivered ${sim.stats.deliveries}, deleted ${sim.stats.delete}`);
    await sim.close();
  },
};

const twin: Simulator = {
  scenarios: TWIN_SCENARIOS,
  async run(scenario, opts) {
    const email = 'operator@example.com';
    const password = 'simulator';
    const sim = new TwinSimulator({ users: { [email]: password }, port: opts.port });
    const { wsUrl, iamUrl } = await sim.start();
    print([
      `TWIN simulator: Centrifugo on ${wsUrl}, IAM on ${iamUrl}.`,
      `"${scenario}" is published when the first client connects. Point a connector at it:`,
      `  - { id: twin-sim, platform: twin, url: "${wsUrl}", auth: { email: "${email}", password: "${password}", iamUrl: "${iamUrl}" } }`,
      'Ctrl-C to stop.',
    ]);
    let published = false;
    const waiter = setInterval(() => {
      if (published || sim.connections === 0) return;
      published = true;
      const offsets = sim.publishScenario(scenario);
      process.stderr.write(`published ${offsets.length} publications of "${scenario}"\n`);
    }, 200);
    await untilStopped(() => `connections ${sim.connections}, publications ${sim.stats.publications}, received from clients ${sim.stats.received.length}`);
    clearInterval(waiter);
    await sim.close();
  },
};

const connect1c: Simulator = {
  scenarios: CONNECT1C_SCENARIOS,
  async run(scenario, opts) {
    const chosen = CONNECT1C_SCENARIOS[scenario];
    if (!chosen) return;
    if (opts.target) {
      // The HTTP relay: the same XML events, POSTed as one body.
      const events = scenarioEvents(scenario, { now: Date.now() });
      const res = await fetch(opts.target, { method: 'POST', headers: { 'content-type': 'application/xml', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }, body: `<Events>${events.join('')}</Events>` });
      print([`relayed ${events.length} events of "${scenario}" to ${opts.target}: HTTP ${res.status} ${await res.text()}`]);
      return;
    }
    const sim = new Connect1cSimulator(opts.pipe ? { path: opts.pipe } : {});
    const path = await sim.start();
    print([
      `1С-Коннект simulator listening on ${path}.`,
      `"${scenario}" is played when the first client has subscribed. Point a connector at it:`,
      `  - { id: office-sim, platform: connect1c, pipe: "${path}" }`,
      'Ctrl-C to stop.',
    ]);
    let played = false;
    const waiter = setInterval(() => {
      if (played || sim.stats.subscriptions.length === 0) return;
      played = true;
      void sim.play(chosen.frames({ now: Date.now() }), 20).then(() => process.stderr.write(`played "${scenario}"\n`));
    }, 200);
    await untilStopped(() => `clients ${sim.clientCount}, subscriptions ${sim.stats.subscriptions.length}, emitted ${sim.stats.emitted.length}, commands ${sim.stats.commands.length}`);
    clearInterval(waiter);
    await sim.close();
  },
};

/** Pushes relayed by an app: posted to `--target` as the app's relay would. */
function relayed(name: string, scenarios: Simulator['scenarios'], send: (scenario: string, target: string, opts: SimulateOptions) => Promise<SendScenarioResult>): Simulator {
  return {
    scenarios,
    async run(scenario, opts) {
      if (!opts.target) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${name} simulator: --target URL is required, e.g. --target http://127.0.0.1:8080/ingest/${name} --token <ingest token>`);
      const r = await send(scenario, opts.target, opts);
      print([`sent ${r.sent} messages of "${scenario}" to ${opts.target}: ${r.accepted} accepted, ${r.duplicates} duplicate, ${r.rejected.length} rejected; statuses ${JSON.stringify(r.statuses)}`]);
      for (const x of r.rejected) print([`  rejected #${x.index}: ${x.reason}`]);
    },
  };
}

const widget = relayed('widget', WIDGET_SCENARIOS, (scenario, target, opts) => sendWidgetScenario({ target, scenario, form: opts.form ?? 'web', ...(opts.token ? { token: opts.token } : {}) }));
const threads = relayed('threads', THREADS_SCENARIOS, (scenario, target, opts) => sendThreadsScenario({ target, scenario, ...(opts.token ? { token: opts.token } : {}) }));

/** Simulators available, by platform. */
export const SIMULATORS: Readonly<Record<string, Simulator>> = { greenapi, twin, connect1c, widget, threads };

export function listScenarios(platform: string): string {
  const sim = SIMULATORS[platform];
  if (!sim) return '';
  return Object.entries(sim.scenarios)
    .map(([n, s]) => `  ${n.padEnd(22)} ${s.description}`)
    .join('\n');
}

export async function simulate(platform: string, scenario: string | undefined, opts: SimulateOptions): Promise<void> {
  const sim = SIMULATORS[platform];
  if (!sim) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no simulator for "${platform}"; available: ${Object.keys(SIMULATORS).join(', ')}`);
  if (opts.list || !scenario) {
    print([`scenarios of ${platform}:`, listScenarios(platform)]);
    return;
  }
  if (!sim.scenarios[scenario]) throw new SwitchboardError('SB_ERR_NOT_FOUND', `no scenario "${scenario}" for ${platform}; available: ${Object.keys(sim.scenarios).join(', ')}`);
  await sim.run(scenario, opts);
}
