/**
 * edna Threads scenarios: ready-made sequences of push payloads (`{ origin: "threads", type, … }`,
 * PLATFORMS.md "edna Threads push", seed 001) for the push sender, the tests and the demo. Pure
 * and browser-safe. Shapes follow the seed and the normalizer's fixtures (`fixtures/*.json`).
 *
 * Every scenario is a pure function of `{ now }`: the same `now` gives the same pushes; another
 * `now` another thread and other message ids, so two runs do not dedupe each other.
 *
 * @example
 * import { THREADS_SCENARIOS } from './scenarios.js';
 * for (const push of THREADS_SCENARIOS['handover']!.pushes({ now: Date.now() })) listener.threadsPush(push);
 */

export interface ThreadsScenarioOptions {
  /** Milliseconds since the epoch; makes the thread id, the message ids and `receivedDate`s. */
  now: number;
}

export type ThreadsPush = Record<string, unknown> & { origin: string };

export interface ThreadsScenario {
  description: string;
  pushes(opts: ThreadsScenarioOptions): ThreadsPush[];
  /** Normalized event types the pushes give, in order (for tests); `400` for a push the server refuses. */
  readonly types: readonly string[];
}

const BOT = { id: 17, name: 'Бот Ассистент', alias: null, status: null, photoUrl: null, gender: null, organizationUnit: null, role: 'EXTERNAL_BOT' };
const OPERATOR = { id: 4, name: 'Оператор Елена', alias: null, status: null, photoUrl: null, gender: 'FEMALE', organizationUnit: 'Skill Credit', role: 'OPERATOR' };
const CLIENT_ID = 'client-7781';

/** Thread id, message ids and times of one run; `end` is the second of the run's last time, which is `now`. */
function run(now: number, end = 0) {
  const threadId = 100000 + (Math.floor(now / 1000) % 900000);
  const base = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return {
    threadId,
    uuid: (n: number) => `${base}-5c1e-4d0b-8a00-${n.toString(16).padStart(12, '0')}`,
    at: (sec: number) => new Date(now + (sec - end) * 1000).toISOString(),
  };
}

const push = (type: string, fields: Record<string, unknown> = {}): ThreadsPush => ({ origin: 'threads', type, ...fields });

function handover({ now }: ThreadsScenarioOptions): ThreadsPush[] {
  // The last message is at second 120: it happened just now, the others before it.
  const { threadId, uuid, at } = run(now, 120);
  const msg = (n: number, sec: number, fields: Record<string, unknown>) =>
    push('MESSAGE', { uuid: uuid(n), providerId: uuid(n), threadId, receivedDate: at(sec), display: true, attachments: [], quickReplies: [], clientId: CLIENT_ID, ...fields });
  return [
    push('THREAD_OPENED', { threadId, clientId: CLIENT_ID }),
    msg(1, 1, {
      operator: BOT,
      text: 'Здравствуйте! Я бот-помощник. Выберите тему обращения',
      quickReplies: [
        { id: 1, type: 'TEXT', text: 'Кредит', imageUrl: null, url: null, payload: 'credit' },
        { id: 2, type: 'TEXT', text: 'Карта', imageUrl: null, url: null, payload: 'card' },
      ],
    }),
    msg(2, 8, { operator: null, text: 'Кредит' }),
    push('MESSAGES_READ', { threadId, readInMessageIds: uuid(2) }),
    msg(3, 9, { operator: BOT, text: 'Соединяю с оператором, подождите, пожалуйста' }),
    push('OPERATOR_LOOKUP_STARTED', { threadId, providerId: uuid(4) }),
    push('OPERATOR_JOINED', { threadId, providerId: uuid(5), backendId: 5, display: true, text: 'Оператор Елена присоединилась к диалогу', operator: OPERATOR }),
    push('TYPING', { threadId, operator: OPERATOR }),
    msg(6, 40, { operator: OPERATOR, text: 'Здравствуйте! Какая сумма кредита вас интересует?' }),
    msg(7, 55, { operator: null, text: '300 000 ₽' }),
    msg(8, 57, { operator: null, text: 'на 3 года' }),
    push('MESSAGES_READ', { threadId, readInMessageIds: `[${uuid(7)}, ${uuid(8)}]` }),
    msg(9, 90, {
      operator: OPERATOR,
      text: 'Отправляю условия',
      attachments: [{ id: 57, result: 'https://files.example.com/conditions.pdf', optional: { size: 62707, name: 'conditions.pdf', type: 'application/pdf' }, state: 'READY' }],
    }),
    msg(10, 120, { operator: null, text: 'Спасибо!' }),
    push('MESSAGES_READ', { threadId, readInMessageIds: [uuid(10)] }),
    push('OPERATOR_LEFT', { threadId, providerId: uuid(11), display: true, text: 'Оператор Елена покинула диалог', operator: OPERATOR }),
    push('THREAD_CLOSED', { threadId, providerId: uuid(12) }),
  ];
}

function survey({ now }: ThreadsScenarioOptions): ThreadsPush[] {
  const { threadId, uuid } = run(now);
  const text = JSON.stringify({
    id: 12,
    sendingId: Math.floor(now / 1000),
    uuid: uuid(20),
    questions: [{ id: 7, sendingId: Math.floor(now / 1000) + 1, text: 'Оцените работу оператора', scale: 5, simple: false, displayText: true }],
    hideAfter: 300,
  });
  return [push('THREAD_CLOSED', { threadId, providerId: uuid(21) }), push('SURVEY', { threadId, uuid: uuid(22), text })];
}

function schedule({ now }: ThreadsScenarioOptions): ThreadsPush[] {
  const text = JSON.stringify({
    id: 1,
    active: true,
    notification: 'Мы работаем по будням с 9:00 до 21:00',
    intervals: [1, 2, 3, 4, 5].map((weekDay) => ({ id: weekDay, weekDay, startTime: 32400, endTime: 75600 })),
    sendDuringInactive: false,
    serverTime: new Date(now).toISOString(),
  });
  return [push('SCHEDULE', { text })];
}

function closeRequest({ now }: ThreadsScenarioOptions): ThreadsPush[] {
  const { threadId, uuid } = run(now);
  return [push('REQUEST_CLOSE_THREAD', { threadId, uuid: uuid(30), hideAfter: '600' }), push('THREAD_CLOSED', { threadId, providerId: uuid(31) })];
}

function malformed({ now }: ThreadsScenarioOptions): ThreadsPush[] {
  const { threadId, uuid } = run(now);
  return [push('SURVEY', { threadId, uuid: uuid(40), text: '{"id": 12, "questions": [' }), push('MESSAGE_EDITED', { threadId, text: 'исправлено' })];
}

/** The scenarios, by name (`switchboard simulate threads <name>`). */
export const THREADS_SCENARIOS: Record<string, ThreadsScenario> = {
  handover: {
    description: 'Bot-to-operator handover with read receipts: the thread opens, a bot asks, the client answers, the operator is looked up and joins, types, messages both ways (an attachment), three read receipts (comma, bracketed, array), the operator leaves, the thread closes.',
    pushes: handover,
    types: [
      'conversation.opened', 'message.created', 'message.created', 'message.status-changed', 'message.created', 'conversation.queued', 'conversation.assigned', 'conversation.typing',
      'message.created', 'message.created', 'message.created', 'message.status-changed', 'message.created', 'message.created', 'message.status-changed', 'conversation.unassigned', 'conversation.closed',
    ],
  },
  survey: {
    description: 'The thread closes and a survey arrives (SURVEY, text a JSON string).',
    pushes: survey,
    types: ['conversation.closed', 'conversation.survey-requested'],
  },
  schedule: {
    description: 'The chat schedule changes (SCHEDULE, text a JSON string, no thread).',
    pushes: schedule,
    types: ['conversation.schedule-changed'],
  },
  'close-request': {
    description: 'The operator asks to close the thread by timeout (REQUEST_CLOSE_THREAD, hideAfter "600"), then it closes.',
    pushes: closeRequest,
    types: ['conversation.close-requested', 'conversation.closed'],
  },
  malformed: {
    description: 'Two pushes the server refuses with a precise 400 and keeps in the quarantine: a SURVEY whose text is not JSON, a MESSAGE_EDITED without any message id.',
    pushes: malformed,
    types: ['400', '400'],
  },
};

/** The scenario names, for `--list` and errors. */
export const THREADS_SCENARIO_NAMES = Object.keys(THREADS_SCENARIOS);
