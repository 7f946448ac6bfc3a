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
  giveUpAfter: number;
  list?: boolean;
  pipe?: string;
  form?: 'web' | 'mobile';
}

/** What a run with `--target` delivered; the command fails when the target refused anything. */
interface Delivery {
  /** What was sent: "notifications", "events", "messages". */
  readonly noun: string;
  readonly total: number;
  /** How many the target did not take. */
  readonly refused: number;
  /** The target's answers other than 200, by `HTTP <status>` (or `no answer`), with counts. */
  readonly refusals: Readonly<Record<string, number>>;
}

interface Simulator {
  readonly scenarios: Readonly<Record<string, { readonly description: string }>>;
  /**
   * `--target`: `optional` (delivers to it instead of serving), `required` (the platform only
   * pushes), or the reason it makes no sense for this platform.
   */
  readonly target: 'optional' | 'required' | { readonly refused: string };
  run(scenario: string, opts: SimulateOptions): Promise<Delivery | undefined>;
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

/** Counts of statuses other than 200, as `HTTP 401`. */
function refusalsOf(statuses: Iterable<readonly [status: number | string, count: number]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [status, count] of statuses) if (Number(status) !== 200 && count > 0) out[`HTTP ${status}`] = (out[`HTTP ${status}`] ?? 0) + count;
  return out;
}

/** A retry can help after these (GREEN-API retries every failure; a refusal of the request itself it would only repeat). */
const retryable = (status: number | undefined) => status === undefined || status >= 500 || status === 408 || status === 429;

const greenapi: Simulator = {
  scenarios: GREENAPI_SCENARIOS,
  target: 'optional',
  async run(scenario, opts) {
    const chosen = GREENAPI_SCENARIOS[scenario];
    if (!chosen) return undefined;
    const notifications = chosen.notifications({ idInstance: opts.instance, wid: '79876543210@c.us', now: Date.now() });
    if (opts.target) {
      // Webhooks, as GREEN-API sends them: one at a time, retried until HTTP 200 (5xx, 408, 429
      // and no answer, every --retry-delay until --give-up-after); another 4xx is a refusal at once.
      const sender = new GreenApiWebhookSender({
        url: opts.target,
        ...(opts.token ? { token: opts.token } : {}),
        retryDelayMs: opts.retryDelay,
        giveUpAfterMs: opts.giveUpAfter,
        retryOn: retryable,
        timeoutMs: 30_000,
      });
      for (const n of notifications) sender.send(n);
      print([`sending ${notifications.length} notifications of "${scenario}" to ${opts.target}`]);
      await sender.drain();
      const s = sender.stats;
      print([`delivered ${s.sent}, attempts ${s.attempts}, failures ${s.failures}, statuses ${JSON.stringify(s.statuses)}`]);
      await sender.close();
      const refusals = refusalsOf(Object.entries(s.statuses));
      if (s.errors > 0) refusals['no answer'] = s.errors;
      return { noun: 'notifications', total: notifications.length, refused: notifications.length - s.sent, refusals };
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
    return undefined;
  },
};

const twin: Simulator = {
  scenarios: TWIN_SCENARIOS,
  target: {
    refused:
      'TWIN is not pushed to Switchboard: a twin connector connects to the simulator (its Centrifugo WebSocket and IAM login) as it does to TWIN. ' +
      'Run "switchboard simulate twin <scenario> [--port N]" without --target and add the connector entry it prints to your config; see docs/connectors/twin.md#simulator',
  },
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
    return undefined;
  },
};

const connect1c: Simulator = {
  scenarios: CONNECT1C_SCENARIOS,
  target: 'optional',
  async run(scenario, opts) {
    const chosen = CONNECT1C_SCENARIOS[scenario];
    if (!chosen) return undefined;
    if (opts.target) {
      // Not the pipe: what an HTTP relay beside the 1С-Коннект app posts, the same XML events in one body.
      const events = scenarioEvents(scenario, { now: Date.now() });
      const res = await fetch(opts.target, { method: 'POST', headers: { 'content-type': 'application/xml', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }, body: `<Events>${events.join('')}</Events>` });
      print([`relayed ${events.length} events of "${scenario}" to ${opts.target}: HTTP ${res.status} ${await res.text()}`]);
      return { noun: 'events', total: events.length, refused: res.status === 200 ? 0 : events.length, refusals: refusalsOf([[res.status, 1]]) };
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
    return undefined;
  },
};

/**
 * Pushes relayed by an app: posted to `--target` as the app's relay would. `expected400` counts
 * the messages a scenario sends to be refused as malformed (they do not fail the run).
 */
function relayed(
  scenarios: Simulator['scenarios'],
  send: (scenario: string, target: string, opts: SimulateOptions) => Promise<SendScenarioResult>,
  expected400: (scenario: string) => number = () => 0,
): Simulator {
  return {
    scenarios,
    target: 'required',
    async run(scenario, opts) {
      const target = opts.target ?? '';
      const r = await send(scenario, target, opts);
      print([`sent ${r.sent} messages of "${scenario}" to ${target}: ${r.accepted} accepted, ${r.duplicates} duplicate, ${r.rejected.length} rejected; statuses ${JSON.stringify(r.statuses)}`]);
      for (const x of r.rejected) print([`  rejected #${x.index}: ${x.reason}`]);
      let expected = expected400(scenario);
      const unexpected = r.statuses.filter((st) => st !== 200 && !(st === 400 && expected-- > 0));
      return { noun: 'messages', total: r.sent, refused: unexpected.length, refusals: refusalsOf(unexpected.map((st) => [st, 1] as const)) };
    },
  };
}

const widget = relayed(WIDGET_SCENARIOS, (scenario, target, opts) => sendWidgetScenario({ target, scenario, form: opts.form ?? 'web', ...(opts.token ? { token: opts.token } : {}) }));
const threads = relayed(
  THREADS_SCENARIOS,
  (scenario, target, opts) => sendThreadsScenario({ target, scenario, ...(opts.token ? { token: opts.token } : {}) }),
  (scenario) => THREADS_SCENARIOS[scenario]?.types.filter((t) => t === '400').length ?? 0,
);

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
  checkTarget(platform, sim, opts);
  const delivery = await sim.run(scenario, opts).catch((err: unknown) => {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is its cause.
    const cause = err instanceof TypeError && err.cause instanceof Error ? err.cause : undefined;
    if (opts.target && cause) throw new Error(`${platform} simulator: could not reach ${opts.target}: ${cause.message}`);
    throw err;
  });
  if (delivery && delivery.refused > 0) {
    const answers = Object.entries(delivery.refusals).map(([what, n]) => `${what} ×${n}`);
    throw new Error(`${platform} simulator: ${opts.target ?? ''} refused ${delivery.refused} of ${delivery.total} ${delivery.noun}${answers.length ? ` (answers: ${answers.join(', ')})` : ''}; ${hintFor(delivery.refusals)}`);
  }
}

/** `--target` and `--token` as the platform takes them, or a message saying what to do instead. */
function checkTarget(platform: string, sim: Simulator, opts: SimulateOptions): void {
  const example = `e.g. --target http://127.0.0.1:8080/ingest/${platform} --token <the connector's ingestToken>`;
  if (opts.target !== undefined) {
    if (typeof sim.target === 'object') throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${platform} simulator: --target is not supported. ${sim.target.refused}`);
    let url: URL | undefined;
    try {
      url = new URL(opts.target);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${platform} simulator: --target must be an http:// or https:// URL, ${example}`);
  } else if (sim.target === 'required') {
    throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${platform} simulator: --target URL is required, ${example}`);
  } else if (opts.token !== undefined) {
    throw new SwitchboardError('SB_ERR_QUERY_INVALID', `${platform} simulator: --token is sent only with --target; without it the simulator serves its platform's API and Switchboard connects to it`);
  }
}

function hintFor(refusals: Readonly<Record<string, number>>): string {
  const has = (...codes: number[]) => codes.some((c) => refusals[`HTTP ${c}`] !== undefined);
  if (has(401, 403)) return "check --token: it must be the target connector's ingestToken";
  if (has(404)) return 'check --target: POST /ingest/<connector id> of a connector of this platform';
  return 'see the answers above and the target’s log';
}
