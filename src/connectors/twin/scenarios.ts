/**
 * TWIN scenarios: ready-made sequences of live-event publications (the `publication.data` of
 * PLATFORMS.md "TWIN", seed 002) for the simulator, the tests and the demo.
 *
 * Shapes: `chatSessionStarted` is built in full from the seed's type; `operatorNotFound` and
 * `clientOffline` follow the seed (`{ action, data }`). Every other payload is unconfirmed — a
 * plausible shape only, which a connector must keep whole rather than rely on. `clientOnline`
 * uses `action` like its mirror `clientOffline` (a guess; the connector must accept `event` or
 * `action` for every name).
 *
 * Every scenario's `publications()` returns fresh objects with fixed ids and timestamps, so two
 * calls give equal lists.
 *
 * @example
 * import { TWIN_SCENARIOS } from './scenarios.js';
 * for (const p of TWIN_SCENARIOS['handover']!.publications()) simulator.publish('notifications', p);
 */

export interface TwinScenarioPublication {
  event?: string;
  action?: string;
  data: unknown;
}

export interface TwinScenario {
  description: string;
  publications: () => TwinScenarioPublication[];
}

/** The 15 live events of the seed, in its order. */
export const TWIN_EVENTS = [
  'chatSessionStarted',
  'operatorNotFound',
  'chatSessionAdded',
  'chatMessageCreated',
  'chatMessageEdited',
  'chatMessageRead',
  'chatSessionDeleted',
  'chatSessionSwitchedFromBotToOperator',
  'sessionClosedByClient',
  'operatorBlocked',
  'chatUserExists',
  'typing',
  'operatorLoggedOut',
  'clientOnline',
  'clientOffline',
] as const;

export type TwinEventName = (typeof TWIN_EVENTS)[number];

// ─── fixed actors ───────────────────────────────────────────────────────────────────────────────

/** The operator the simulated feed belongs to. */
export const SCENARIO_OPERATOR = { id: 4217, name: 'Анна Смирнова' } as const;
/** Another operator (the previous owner of a session, the one who takes over a login). */
export const SCENARIO_OTHER_OPERATOR = { id: 3108, name: 'Олег Козлов' } as const;
/** The default chat: client, chat and session ids. */
export const SCENARIO_CHAT = {
  clientId: 'c6f1d1a2-5b0e-4c1e-9d7a-2f4b8e1a0c11',
  chatId: '8a3e2f4c-91b7-4d0a-b6e5-3c2d1f0e9a77',
  sessionId: '5d9c7b1e-2a4f-4e8b-a0c3-6f1e2d3c4b55',
  name: 'Иван Петров',
} as const;
/** A second chat, for presence churn and the `all` scenario. */
export const SCENARIO_CHAT_2 = {
  clientId: 'e2b7c4d9-0f3a-4b6c-8e1d-9a5f7c3b2e08',
  chatId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  sessionId: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
  name: 'Мария',
} as const;

const BASE = Date.UTC(2024, 4, 14, 9, 0, 0);
/** ISO time `seconds` after the scenarios' fixed start. */
const at = (seconds: number): string => new Date(BASE + seconds * 1000).toISOString();

type Chat = { clientId: string; chatId: string; sessionId: string; name: string };

/** The seed's full `chatSessionStarted.data`; every optional field present. */
function sessionData(chat: Chat, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: chat.sessionId,
    chatId: chat.chatId,
    clientId: chat.clientId,
    name: chat.name,
    markedAsSpam: false,
    operatorId: null,
    operatorType: 'OPERATOR',
    channel: 'widget',
    botStatus: 'ACTIVE',
    status: 'OPEN',
    startedAt: at(0),
    clientOnlineAt: at(0),
    clientOfflineAt: null,
    lastMessageCreatedAt: at(1),
    lastMessage: { id: 'm-0001', text: 'Здравствуйте! Не проходит оплата', createdAt: at(1), authorType: 'CLIENT' },
    clientExternalId: 'crm-100234',
    clientBanned: false,
    referer: 'https://shop.example.ru/checkout',
    clientIp: '203.0.113.17',
    coordinates: {
      city: 'Казань',
      latitude: 55.7887,
      zip_code: '420000',
      longitude: 49.1221,
      time_zone: 'Europe/Moscow',
      region_name: 'Татарстан',
      country_code: 'RU',
      country_name: 'Russia',
    },
    unreadClientMessageCount: 1,
    unreadClientMessageExists: true,
    messengerType: null,
    whatsappPhone: null,
    timerFirstAnswer: 60,
    timerNextAnswers: 180,
    lastOperatorMessage: null,
    firstClientMessageAfterLastOperatorMessage: null,
    operatorAssignedAt: null,
    previousOperator: null,
    ...over,
  };
}

function message(chat: Chat, id: string, text: string, authorType: 'CLIENT' | 'OPERATOR' | 'BOT', second: number): TwinScenarioPublication {
  return {
    event: 'chatMessageCreated',
    data: {
      id,
      chatId: chat.chatId,
      sessionId: chat.sessionId,
      text,
      type: 'TEXT',
      authorType,
      operatorId: authorType === 'OPERATOR' ? SCENARIO_OPERATOR.id : null,
      attachments: [],
      createdAt: at(second),
    },
  };
}

const ev = (event: TwinEventName, data: unknown): TwinScenarioPublication => ({ event, data });
const act = (action: TwinEventName, data: unknown): TwinScenarioPublication => ({ action, data });

const typing = (chat: Chat, userType: 'client' | 'operator', second: number): TwinScenarioPublication =>
  ev('typing', { chatId: chat.chatId, sessionId: chat.sessionId, userType, at: at(second) });
const clientOnline = (chat: Chat): TwinScenarioPublication => act('clientOnline', { id: chat.clientId });
const clientOffline = (chat: Chat): TwinScenarioPublication => act('clientOffline', { id: chat.clientId });

// ─── scenarios ──────────────────────────────────────────────────────────────────────────────────

function handover(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [
    ev('chatSessionStarted', sessionData(c)),
    message(c, 'm-0001', 'Здравствуйте! Не проходит оплата', 'CLIENT', 1),
    message(c, 'm-0002', 'Я бот-помощник. Переключаю на оператора…', 'BOT', 2),
    act('operatorNotFound', { botStatus: 'HELP', chatId: c.chatId, operatorType: 'OPERATOR', sessionId: c.sessionId, status: 'OPEN' }),
    ev('chatSessionSwitchedFromBotToOperator', { id: c.sessionId, chatId: c.chatId, botStatus: 'DISABLED', operatorId: SCENARIO_OPERATOR.id, switchedAt: at(20) }),
    ev('chatSessionAdded', sessionData(c, { operatorId: SCENARIO_OPERATOR.id, botStatus: 'DISABLED', operatorAssignedAt: at(21) })),
    typing(c, 'operator', 25),
    message(c, 'm-0003', 'Добрый день! Подскажите номер заказа.', 'OPERATOR', 30),
    ev('chatMessageRead', { chatId: c.chatId, sessionId: c.sessionId, messageIds: ['m-0003'], readAt: at(35) }),
    typing(c, 'client', 40),
    message(c, 'm-0004', 'Заказ 77-1024', 'CLIENT', 45),
    ev('chatMessageEdited', { id: 'm-0003', chatId: c.chatId, sessionId: c.sessionId, text: 'Добрый день! Подскажите, пожалуйста, номер заказа.', operatorId: SCENARIO_OPERATOR.id, editedAt: at(50) }),
    message(c, 'm-0005', 'Оплата прошла повторно, проверьте.', 'OPERATOR', 60),
    ev('chatMessageRead', { chatId: c.chatId, sessionId: c.sessionId, messageIds: ['m-0005'], readAt: at(65) }),
    ev('sessionClosedByClient', { id: c.sessionId, chatId: c.chatId, closedAt: at(90) }),
  ];
}

function presence(): TwinScenarioPublication[] {
  const a = SCENARIO_CHAT;
  const b = SCENARIO_CHAT_2;
  return [
    clientOnline(a),
    clientOnline(b),
    typing(a, 'client', 3),
    clientOffline(a),
    clientOnline(a),
    clientOffline(b),
    typing(a, 'client', 9),
    clientOffline(a),
    clientOnline(b),
    clientOffline(b),
  ];
}

function operatorBlocked(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [
    ev('chatSessionAdded', sessionData(c, { operatorId: SCENARIO_OPERATOR.id, botStatus: 'DISABLED', operatorAssignedAt: at(0) })),
    message(c, 'm-0101', 'Есть кто-нибудь?', 'CLIENT', 5),
    ev('operatorBlocked', { operatorId: SCENARIO_OPERATOR.id, blockedAt: at(10), reason: 'blocked by administrator' }),
  ];
}

function chatUserExists(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [
    ev('chatSessionAdded', sessionData(c, { operatorId: SCENARIO_OPERATOR.id, botStatus: 'DISABLED', operatorAssignedAt: at(0) })),
    typing(c, 'client', 4),
    ev('chatUserExists', { operatorId: SCENARIO_OPERATOR.id, at: at(8) }),
  ];
}

function operatorLoggedOut(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [
    ev('chatSessionAdded', sessionData(c, { operatorId: SCENARIO_OPERATOR.id, botStatus: 'DISABLED', operatorAssignedAt: at(0) })),
    message(c, 'm-0201', 'Спасибо, вопрос решён', 'CLIENT', 5),
    ev('operatorLoggedOut', { operatorId: SCENARIO_OPERATOR.id, at: at(12) }),
  ];
}

function all(): TwinScenarioPublication[] {
  const a = SCENARIO_CHAT;
  const b = SCENARIO_CHAT_2;
  return [
    ev('chatSessionStarted', sessionData(a)),
    act('operatorNotFound', { botStatus: 'HELP', chatId: a.chatId, operatorType: 'OPERATOR', sessionId: a.sessionId, status: 'OPEN' }),
    ev('chatSessionSwitchedFromBotToOperator', { id: a.sessionId, chatId: a.chatId, botStatus: 'DISABLED', operatorId: SCENARIO_OPERATOR.id, switchedAt: at(20) }),
    ev('chatSessionAdded', sessionData(a, { operatorId: SCENARIO_OPERATOR.id, botStatus: 'DISABLED', operatorAssignedAt: at(21), previousOperator: { id: String(SCENARIO_OTHER_OPERATOR.id), name: SCENARIO_OTHER_OPERATOR.name } })),
    clientOnline(a),
    typing(a, 'client', 22),
    message(a, 'm-0001', 'Здравствуйте! Не проходит оплата', 'CLIENT', 23),
    message(a, 'm-0002', 'Добрый день! Сейчас проверю.', 'OPERATOR', 30),
    ev('chatMessageEdited', { id: 'm-0002', chatId: a.chatId, sessionId: a.sessionId, text: 'Добрый день! Сейчас проверю оплату.', operatorId: SCENARIO_OPERATOR.id, editedAt: at(31) }),
    ev('chatMessageRead', { chatId: a.chatId, sessionId: a.sessionId, messageIds: ['m-0002'], readAt: at(33) }),
    ev('chatSessionStarted', sessionData(b, { startedAt: at(40), lastMessageCreatedAt: null, lastMessage: null, unreadClientMessageCount: 0, unreadClientMessageExists: false, coordinates: null, clientIp: null, clientExternalId: null, messengerType: 'whatsapp', whatsappPhone: '79001234567', channel: 'whatsapp' })),
    ev('chatSessionDeleted', { id: b.sessionId, chatId: b.chatId, reason: 'moved to bot', deletedAt: at(45) }),
    ev('sessionClosedByClient', { id: a.sessionId, chatId: a.chatId, closedAt: at(60) }),
    clientOffline(a),
    ev('chatUserExists', { operatorId: SCENARIO_OPERATOR.id, at: at(70) }),
    ev('operatorBlocked', { operatorId: SCENARIO_OPERATOR.id, blockedAt: at(71), reason: 'blocked by administrator' }),
    ev('operatorLoggedOut', { operatorId: SCENARIO_OPERATOR.id, at: at(72) }),
  ];
}

export const TWIN_SCENARIOS: Record<string, TwinScenario> = {
  handover: {
    description: 'A client writes to the bot, no operator is free (operatorNotFound), the session is switched to this operator; messages both ways, typing, an edit, read receipts, the client closes the session.',
    publications: handover,
  },
  presence: {
    description: 'Two clients going online and offline several times, with client typing in between.',
    publications: presence,
  },
  'operator-blocked': {
    description: "Operator revocation: a session is added, a client message arrives, then operatorBlocked — the operator's session must end.",
    publications: operatorBlocked,
  },
  'chat-user-exists': {
    description: "Operator revocation: someone else logs in as this operator (chatUserExists) — the current operator session must end.",
    publications: chatUserExists,
  },
  'operator-logged-out': {
    description: 'Operator revocation: the operator is made offline (operatorLoggedOut) after a session and a message.',
    publications: operatorLoggedOut,
  },
  all: {
    description: 'Every one of the 15 seed events at least once (chatSessionStarted in full), in a plausible order.',
    publications: all,
  },
};

export const TWIN_SCENARIO_NAMES = Object.keys(TWIN_SCENARIOS);
