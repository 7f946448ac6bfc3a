/**
 * TWIN scenarios: ready-made sequences of live-event publications (the `publication.data` of
 * PLATFORMS.md "TWIN", seed 002) for the simulator, the tests and the demo.
 *
 * Shapes: `chatSessionStarted` is built in full from the seed's type; `operatorNotFound` and
 * `clientOffline` follow the seed (`{ action, data }`). Every other payload is unconfirmed — a
 * plausible shape only, kept in line with the normalizer's fixtures (`fixtures/*.json`), which a
 * connector must keep whole rather than rely on.
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
    status: 'BOT',
    startedAt: at(0),
    clientOnlineAt: at(0),
    clientOfflineAt: null,
    lastMessageCreatedAt: at(1),
    lastMessage: { id: 'm-0001', text: 'Здравствуйте! Не проходит оплата', createdAt: at(1), authorType: 'client' },
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

function message(chat: Chat, id: string, text: string, authorType: 'client' | 'operator' | 'bot', second: number): TwinScenarioPublication {
  return {
    event: 'chatMessageCreated',
    data: {
      id,
      chatId: chat.chatId,
      sessionId: chat.sessionId,
      clientId: chat.clientId,
      text,
      authorType,
      operatorId: authorType === 'operator' ? SCENARIO_OPERATOR.id : null,
      attachments: [],
      createdAt: at(second),
    },
  };
}

const ev = (event: TwinEventName, data: unknown): TwinScenarioPublication => ({ event, data });
const act = (action: TwinEventName, data: unknown): TwinScenarioPublication => ({ action, data });

/** The client typing (what the operator receives; the operator's own typing goes the other way). */
const typing = (chat: Chat): TwinScenarioPublication => ev('typing', { chatId: chat.chatId, sessionId: chat.sessionId, clientId: chat.clientId });
const clientOnline = (chat: Chat, second: number): TwinScenarioPublication => ev('clientOnline', { id: chat.clientId, chatId: chat.chatId, clientOnlineAt: at(second) });
const clientOffline = (chat: Chat): TwinScenarioPublication => act('clientOffline', { id: chat.clientId });
const read = (chat: Chat, messageIds: string[], second: number): TwinScenarioPublication =>
  ev('chatMessageRead', { chatId: chat.chatId, sessionId: chat.sessionId, clientId: chat.clientId, messageIds, readAt: at(second) });
const edited = (chat: Chat, id: string, text: string, created: number, second: number): TwinScenarioPublication =>
  ev('chatMessageEdited', { id, chatId: chat.chatId, sessionId: chat.sessionId, operatorId: SCENARIO_OPERATOR.id, text, createdAt: at(created), updatedAt: at(second) });
const switched = (chat: Chat): TwinScenarioPublication =>
  ev('chatSessionSwitchedFromBotToOperator', { id: chat.sessionId, chatId: chat.chatId, clientId: chat.clientId, name: chat.name, operatorId: SCENARIO_OPERATOR.id, channel: 'widget', status: 'ACTIVE' });
const closedByClient = (chat: Chat, second: number): TwinScenarioPublication => ev('sessionClosedByClient', { id: chat.sessionId, chatId: chat.chatId, clientId: chat.clientId, closedAt: at(second) });
const notFound = (chat: Chat): TwinScenarioPublication => act('operatorNotFound', { botStatus: 'HELP', chatId: chat.chatId, operatorType: 'OPERATOR', sessionId: chat.sessionId, status: 'NEW' });
const added = (chat: Chat, second: number, over: Record<string, unknown> = {}): TwinScenarioPublication =>
  ev('chatSessionAdded', sessionData(chat, { operatorId: SCENARIO_OPERATOR.id, botStatus: null, status: 'ACTIVE', operatorAssignedAt: at(second), ...over }));
/** Revocations carry the operator's id (unconfirmed). */
const revoke = (name: 'operatorBlocked' | 'chatUserExists' | 'operatorLoggedOut'): TwinScenarioPublication => ev(name, { id: SCENARIO_OPERATOR.id });

// ─── scenarios ──────────────────────────────────────────────────────────────────────────────────

function handover(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [
    ev('chatSessionStarted', sessionData(c)),
    message(c, 'm-0001', 'Здравствуйте! Не проходит оплата', 'client', 1),
    message(c, 'm-0002', 'Я бот-помощник. Переключаю на оператора…', 'bot', 2),
    notFound(c),
    switched(c),
    added(c, 21),
    message(c, 'm-0003', 'Добрый день! Подскажите номер заказа.', 'operator', 30),
    read(c, ['m-0003'], 35),
    typing(c),
    message(c, 'm-0004', 'Заказ 77-1024', 'client', 45),
    edited(c, 'm-0003', 'Добрый день! Подскажите, пожалуйста, номер заказа.', 30, 50),
    message(c, 'm-0005', 'Оплата прошла повторно, проверьте.', 'operator', 60),
    read(c, ['m-0005'], 65),
    closedByClient(c, 90),
  ];
}

function presence(): TwinScenarioPublication[] {
  const a = SCENARIO_CHAT;
  const b = SCENARIO_CHAT_2;
  return [clientOnline(a, 0), clientOnline(b, 1), typing(a), clientOffline(a), clientOnline(a, 5), clientOffline(b), typing(a), clientOffline(a), clientOnline(b, 12), clientOffline(b)];
}

function operatorBlocked(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [added(c, 0), message(c, 'm-0101', 'Есть кто-нибудь?', 'client', 5), revoke('operatorBlocked')];
}

function chatUserExists(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [added(c, 0), typing(c), revoke('chatUserExists')];
}

function operatorLoggedOut(): TwinScenarioPublication[] {
  const c = SCENARIO_CHAT;
  return [added(c, 0), message(c, 'm-0201', 'Спасибо, вопрос решён', 'client', 5), revoke('operatorLoggedOut')];
}

function all(): TwinScenarioPublication[] {
  const a = SCENARIO_CHAT;
  const b = SCENARIO_CHAT_2;
  return [
    ev('chatSessionStarted', sessionData(a)),
    notFound(a),
    switched(a),
    added(a, 21, { previousOperator: { id: String(SCENARIO_OTHER_OPERATOR.id), name: SCENARIO_OTHER_OPERATOR.name } }),
    clientOnline(a, 22),
    typing(a),
    message(a, 'm-0001', 'Здравствуйте! Не проходит оплата', 'client', 23),
    message(a, 'm-0002', 'Добрый день! Сейчас проверю.', 'operator', 30),
    edited(a, 'm-0002', 'Добрый день! Сейчас проверю оплату.', 30, 31),
    read(a, ['m-0002'], 33),
    ev(
      'chatSessionStarted',
      sessionData(b, { startedAt: at(40), lastMessageCreatedAt: null, lastMessage: null, unreadClientMessageCount: 0, unreadClientMessageExists: false, coordinates: null, clientIp: null, clientExternalId: null, messengerType: 'whatsapp', whatsappPhone: '79001234567', channel: 'whatsapp' }),
    ),
    ev('chatSessionDeleted', { id: b.sessionId, chatId: b.chatId, operatorId: SCENARIO_OPERATOR.id, channel: 'whatsapp', status: 'BOT' }),
    closedByClient(a, 60),
    clientOffline(a),
    revoke('chatUserExists'),
    revoke('operatorBlocked'),
    revoke('operatorLoggedOut'),
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
