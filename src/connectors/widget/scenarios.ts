/**
 * Call widget scenarios: ready-made calls as the widget emits them (web `postMessage` messages,
 * PLATFORMS.md "Call widget") and as an app relays its mobile SDK codes (DESIGN §4), for the
 * simulator, the demo page's fake widget and the tests. Pure and browser-safe: the demo bundles
 * this file into its fake widget.
 *
 * The shapes of `greet`, `chat` and `feedback` data are unconfirmed (the seed gives none): they
 * follow the normalizer's fixtures (`fixtures/*.json`).
 *
 * Every scenario is a pure function of `{ now }`: the same `now` gives the same messages, another
 * `now` another session/call id, so two runs do not dedupe each other. Web messages carry no
 * `timestamp` (the widget sends none; the relay — the browser module or the simulator — stamps
 * them); mobile codes carry theirs (`timestamp`: `now` plus the step's offset, in ms).
 *
 * @example
 * import { WIDGET_SCENARIOS } from './scenarios.js';
 * for (const m of WIDGET_SCENARIOS['answered-call']!.web({ now: Date.now() })) parent.postMessage(m, parentOrigin);
 */

/** A web widget message, `{ subject, payload: { type, data } }`, as the widget posts it. */
export interface WidgetWebMessage {
  subject: string;
  payload: { type: string; data?: unknown };
  timestamp?: number;
}

/** A mobile SDK code as the app relays it. */
export interface WidgetMobileMessage {
  code: string;
  callId: string;
  timestamp: number;
  data?: Record<string, unknown>;
}

export interface WidgetScenarioOptions {
  /** Milliseconds since the epoch; makes the session/call id and the timestamps. */
  now: number;
  /** Web messages: add `timestamp` (the step's time; the last step is at `now`), as a relay does. Default false. */
  stamped?: boolean;
}

export interface WidgetScenario {
  description: string;
  /** What the web widget posts, in order. */
  web(opts: WidgetScenarioOptions): WidgetWebMessage[];
  /** What the mobile SDK reports, relayed as `{ code, callId, timestamp, data }`, in order. */
  mobile(opts: WidgetScenarioOptions): WidgetMobileMessage[];
  /** Normalized event types the scenario gives, in order, web form (for tests and `--list`). */
  readonly webTypes: readonly string[];
  readonly mobileTypes: readonly string[];
}

/** One step: a web message (state or type) and/or the mobile code of the same moment. */
interface Step {
  /** Offset from `now` in ms. */
  at: number;
  web?: { type: string; data?: unknown };
  code?: string;
  data?: Record<string, unknown>;
}

const state = (s: string, extra: Record<string, unknown> = {}) => ({ type: 'state', data: { state: s, ...extra } });

const GREETING = 'Здравствуйте! Меня зовут Анна, чем могу помочь?';

function scenario(description: string, steps: readonly Step[], webTypes: readonly string[], mobileTypes: readonly string[]): WidgetScenario {
  // The last step happens at `now`, the others before it: a sender never stamps the future.
  const end = Math.max(0, ...steps.map((s) => s.at));
  return {
    description,
    webTypes,
    mobileTypes,
    web: ({ now, stamped }) =>
      steps.flatMap((s) =>
        s.web
          ? [{ subject: `widget-session-${now.toString(36)}`, payload: s.web.data === undefined ? { type: s.web.type } : { type: s.web.type, data: s.web.data }, ...(stamped ? { timestamp: now - end + s.at } : {}) }]
          : [],
      ),
    mobile: ({ now }) =>
      steps.flatMap((s) => (s.code ? [{ code: s.code, callId: `call-${now.toString(36)}`, timestamp: now - end + s.at, ...(s.data ? { data: s.data } : {}) }] : [])),
  };
}

/** The scenarios, by name (`switchboard simulate widget <name>`). */
export const WIDGET_SCENARIOS: Record<string, WidgetScenario> = {
  'answered-call': scenario(
    'A client calls, an operator answers and greets, two chat lines, the call ends, the client rates it 5 and closes the widget.',
    [
      { at: 0, web: state('ringing'), code: 'RINGING' },
      { at: 4000, code: 'START' },
      { at: 5000, web: state('connected'), code: 'CONNECTED' },
      { at: 6000, web: { type: 'greet', data: { text: GREETING } }, code: 'GREET', data: { text: GREETING } },
      { at: 20000, web: { type: 'chat', data: { message: 'Подскажите, пожалуйста, тариф' } } },
      { at: 35000, web: { type: 'chat', data: { message: 'Тариф «Базовый», 300 ₽ в месяц', from: 'operator' } } },
      { at: 90000, code: 'FINISH', data: { by: 'client' } },
      { at: 91000, web: state('ended'), code: 'ENDED' },
      { at: 100000, web: { type: 'feedback', data: { rating: 5, scale: 5, comment: 'Спасибо!' } }, code: 'FEEDBACK_RATE', data: { rate: 5 } },
      { at: 105000, web: state('closed'), code: 'CLOSED' },
    ],
    ['call.ringing', 'call.answered', 'message.created', 'message.created', 'message.created', 'call.ended', 'call.rated', 'call.closed'],
    ['call.ringing', 'call.connecting', 'call.answered', 'message.created', 'call.finished', 'call.ended', 'call.rated', 'call.closed'],
  ),
  'missed-call': scenario(
    'A client calls, no operator is available: the widget cancels the call (call.ended missed, no-operator), the client closes the widget.',
    [
      { at: 0, web: state('ringing'), code: 'RINGING' },
      { at: 30000, web: state('cancelled', { reason: 'no operator available' }), code: 'CANCELLED', data: { noOperator: true } },
      { at: 33000, web: state('closed'), code: 'CLOSED' },
    ],
    ['call.ringing', 'call.ended', 'call.closed'],
    ['call.ringing', 'call.ended', 'call.closed'],
  ),
  'cancelled-call': scenario(
    'A client calls and cancels before anyone answers (call.ended missed, cancelled).',
    [
      { at: 0, web: state('ringing'), code: 'RINGING' },
      { at: 8000, web: state('cancelled'), code: 'CANCELLED' },
      { at: 9000, web: state('closed'), code: 'CLOSED' },
    ],
    ['call.ringing', 'call.ended', 'call.closed'],
    ['call.ringing', 'call.ended', 'call.closed'],
  ),
  'redirected-call': scenario(
    'A call answered, redirected to another operator who answers, the operator disconnects, the call ends, the client skips the rating (mobile) and closes.',
    [
      { at: 0, web: state('ringing'), code: 'RINGING' },
      { at: 5000, web: state('connected'), code: 'CONNECTED' },
      { at: 30000, web: state('redirected'), code: 'REDIRECTED' },
      { at: 40000, web: state('connected'), code: 'CONNECTED' },
      { at: 120000, web: state('disconnected', { by: 'operator' }), code: 'DISCONNECTED', data: { by: 'operator' } },
      { at: 121000, web: state('ended'), code: 'ENDED' },
      { at: 125000, code: 'FEEDBACK_SKIP' },
      { at: 126000, web: state('closed'), code: 'CLOSED' },
    ],
    ['call.ringing', 'call.answered', 'call.redirected', 'call.answered', 'call.disconnected', 'call.ended', 'call.closed'],
    ['call.ringing', 'call.answered', 'call.redirected', 'call.answered', 'call.disconnected', 'call.ended', 'call.rating-skipped', 'call.closed'],
  ),
};

/** The scenario names, for `--list` and errors. */
export const WIDGET_SCENARIO_NAMES = Object.keys(WIDGET_SCENARIOS);
