/**
 * GREEN-API scenarios: ready-made sequences of native notifications (the shapes of
 * `fixtures/`, PLATFORMS.md "GREEN-API") for the simulator's queue, its webhook sender, the tests
 * and the demo.
 *
 * Every scenario is a pure function of `{ idInstance, wid, now }`: the same options give the same
 * notifications, and a different `now` gives different `idMessage`s, so two runs do not dedupe
 * each other. `now` is milliseconds since the epoch (`Date.now()`); a value below 10^11 is taken
 * as Unix seconds. Payload `timestamp`s are Unix seconds, as GREEN-API sends them.
 *
 * @example
 * import { SCENARIOS } from './scenarios.js';
 * for (const body of SCENARIOS['answered-call']!.notifications({ idInstance: '1101000001', wid: '79876543210@c.us', now: Date.now() }))
 *   simulator.enqueue('1101000001', body);
 */

export interface ScenarioOptions {
  /** The instance the notifications come from (`instanceData.idInstance`; numeric strings become numbers). */
  idInstance: string;
  /** The instance's own WhatsApp id, e.g. `79876543210@c.us` (`instanceData.wid`, the sender of outgoing messages). */
  wid: string;
  /** Milliseconds since the epoch (values below 10^11 are taken as Unix seconds). */
  now: number;
}

export interface Scenario {
  description: string;
  notifications: (opts: ScenarioOptions) => Record<string, unknown>[];
}

type Body = Record<string, unknown>;

/** The default client of the scenarios (a personal chat). */
export const SCENARIO_CLIENT = { chatId: '79001234567@c.us', name: 'Ivan', contactName: 'Ivan Petrov' } as const;
/** A second client, so that the `messages` scenario is not one chat only. */
export const SCENARIO_CLIENT_2 = { chatId: '79007654321@c.us', name: 'Мария', contactName: '' } as const;

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

/** FNV-1a over a string, then mixed, as an unsigned 32-bit number. */
function hash32(s: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic upper-case hex of `length` digits from a key. */
function hex(key: string, length: number): string {
  let out = '';
  for (let salt = 0; out.length < length; salt++) out += hash32(key, salt).toString(16).toUpperCase().padStart(8, '0');
  return out.slice(0, length);
}

/** Unix seconds of `now` (ms, or seconds when below 10^11). */
function unixSeconds(now: number): number {
  return now < 1e11 ? Math.floor(now) : Math.floor(now / 1000);
}

/** What every scenario builds its notifications with. */
class Builder {
  readonly t0: number;
  private readonly instanceData: Body;
  constructor(
    private readonly opts: ScenarioOptions,
    private readonly label: string,
  ) {
    this.t0 = unixSeconds(opts.now);
    const numeric = /^\d+$/.test(opts.idInstance) ? Number(opts.idInstance) : opts.idInstance;
    this.instanceData = { idInstance: numeric, wid: opts.wid, typeInstance: 'whatsapp' };
  }

  /** An id unique to (instance, now, scenario, key). `kind` picks GREEN-API's id styles. */
  id(key: string, kind: 'call' | 'incoming' | 'phone' | 'api'): string {
    const k = `${this.opts.idInstance}|${this.opts.now}|${this.label}|${key}`;
    switch (kind) {
      case 'call':
        return hex(k, 32); // incomingCall idMessage: 32 hex digits
      case 'incoming':
        return hex(k, 16);
      case 'phone':
        return `3EB0${hex(k, 16)}`; // sent from the phone / WhatsApp Web
      case 'api':
        return `BAE5${hex(k, 12)}`; // sent through the API
    }
  }

  /** A copy of `instanceData`. */
  instance(): Body {
    return { ...this.instanceData };
  }

  base(typeWebhook: string, dt: number): Body {
    return { typeWebhook, instanceData: { ...this.instanceData }, timestamp: this.t0 + dt };
  }

  incomingCall(idMessage: string, status: string, dt: number, from: string = SCENARIO_CLIENT.chatId): Body {
    // Key order as GREEN-API sends it (see fixtures/incomingCall-*.json).
    return { from, typeWebhook: 'incomingCall', instanceData: { ...this.instanceData }, status, timestamp: this.t0 + dt, idMessage };
  }

  outgoingCall(idMessage: string, status: 'pickUp' | 'hungUp' | 'invalid', duration: number, dt: number): Body {
    return {
      ...this.base('outgoingCall', dt),
      idMessage,
      from: SCENARIO_CLIENT.chatId,
      isVideo: false,
      duration,
      status,
      participants: [{ id: SCENARIO_CLIENT.chatId, status }],
    };
  }

  incomingMessage(idMessage: string, dt: number, messageData: Body, client: { chatId: string; name: string; contactName: string } = SCENARIO_CLIENT): Body {
    return {
      ...this.base('incomingMessageReceived', dt),
      idMessage,
      senderData: {
        chatId: client.chatId,
        chatName: client.name,
        sender: client.chatId,
        senderName: client.name,
        senderContactName: client.contactName,
      },
      messageData,
    };
  }

  outgoingMessage(typeWebhook: 'outgoingMessageReceived' | 'outgoingAPIMessageReceived', idMessage: string, dt: number, messageData: Body): Body {
    return {
      ...this.base(typeWebhook, dt),
      idMessage,
      senderData: {
        chatId: SCENARIO_CLIENT.chatId,
        chatName: SCENARIO_CLIENT.contactName,
        sender: this.opts.wid,
        senderName: 'Shop',
        senderContactName: '',
      },
      messageData,
    };
  }

  status(idMessage: string, status: string, dt: number, sendByApi: boolean, chatId: string = SCENARIO_CLIENT.chatId): Body {
    const t = this.base('outgoingMessageStatus', dt);
    // Key order of fixtures/outgoingMessageStatus-*.json.
    return { typeWebhook: t['typeWebhook'], chatId, instanceData: t['instanceData'], timestamp: t['timestamp'], idMessage, status, sendByApi };
  }
}

const text = (textMessage: string): Body => ({
  typeMessage: 'textMessage',
  textMessageData: { textMessage, isForwarded: false, forwardingScore: 0 },
});

// ─── scenarios ──────────────────────────────────────────────────────────────────────────────────

function call(label: string, end: 'pickUp' | 'declined' | 'hungUp', endAfter: number) {
  return (opts: ScenarioOptions): Body[] => {
    const b = new Builder(opts, label);
    const id = b.id('call', 'call');
    return [b.incomingCall(id, 'offer', 0), b.incomingCall(id, end, endAfter)];
  };
}

function messages(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'messages');
  const api = b.id('api-text', 'api');
  const apiDoc = b.id('api-doc', 'api');
  const file = b.id('file', 'incoming');
  return [
    b.incomingMessage(b.id('text', 'incoming'), 0, text('Здравствуйте! Когда откроетесь?')),
    b.outgoingMessage('outgoingMessageReceived', b.id('phone-text', 'phone'), 20, {
      typeMessage: 'textMessage',
      textMessageData: { textMessage: 'Открываемся в 9:00' },
    }),
    b.outgoingMessage('outgoingAPIMessageReceived', api, 30, {
      typeMessage: 'extendedTextMessage',
      extendedTextMessageData: { text: 'Ваш заказ №123 отправлен', description: '', title: '', jpegThumbnail: '' },
    }),
    b.status(api, 'sent', 31, true),
    b.incomingMessage(file, 40, {
      typeMessage: 'documentMessage',
      fileMessageData: {
        jpegThumbnail: '',
        isForwarded: false,
        forwardingScore: 0,
        downloadUrl: `https://sw-media-out.storage.greenapi.net/${opts.idInstance}/${file.toLowerCase()}.pdf`,
        caption: 'Договор',
        fileName: 'Договор-2024.pdf',
        mimeType: 'application/pdf',
      },
    }),
    b.incomingMessage(b.id('location', 'incoming'), 50, {
      typeMessage: 'locationMessage',
      locationMessageData: {
        nameLocation: 'Офис',
        address: 'Пермь, ул. Ленина, 1',
        jpegThumbnail: '',
        latitude: 58.0105,
        longitude: 56.2502,
        isForwarded: false,
        forwardingScore: 0,
      },
    }),
    b.status(api, 'delivered', 55, true),
    b.status(api, 'read', 90, true),
    b.outgoingMessage('outgoingAPIMessageReceived', apiDoc, 100, {
      typeMessage: 'documentMessage',
      fileMessageData: {
        downloadUrl: `https://sw-media-out.storage.greenapi.net/${opts.idInstance}/${apiDoc.toLowerCase()}.pdf`,
        caption: 'Счёт',
        fileName: 'invoice.pdf',
        mimeType: 'application/pdf',
        jpegThumbnail: '',
        isForwarded: false,
        forwardingScore: 0,
      },
    }),
    b.status(apiDoc, 'delivered', 101, true),
    b.incomingMessage(b.id('text-2', 'incoming'), 110, text('Добрый день, есть доставка?'), SCENARIO_CLIENT_2),
  ];
}

function duplicates(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'duplicates');
  const msg = b.incomingMessage(b.id('text', 'incoming'), 0, text('Это сообщение придёт дважды'));
  const id = b.id('call', 'call');
  const offer = b.incomingCall(id, 'offer', 10);
  const end = b.incomingCall(id, 'declined', 40);
  // GREEN-API sends the same notification again (a duplicate webhook): deep copies, equal content.
  return [msg, structuredClone(msg), offer, end, structuredClone(end)];
}

function outOfOrder(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'out-of-order');
  const id = b.id('call', 'call');
  const api = b.id('api-text', 'api');
  return [
    // The end of the call arrives before its offer (delayed webhook).
    b.incomingCall(id, 'pickUp', 15),
    b.incomingCall(id, 'offer', 0),
    // A read status before the delivered status, both before the message they are about.
    b.status(api, 'read', 70, true),
    b.status(api, 'delivered', 62, true),
    b.outgoingMessage('outgoingAPIMessageReceived', api, 60, {
      typeMessage: 'extendedTextMessage',
      extendedTextMessageData: { text: 'Спасибо за звонок!', description: '', title: '', jpegThumbnail: '' },
    }),
  ];
}

function stateChanges(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'state-changes');
  const notAuthorized = b.base('stateInstanceChanged', 0);
  // GREEN-API sends an empty wid while the instance is not authorized.
  (notAuthorized['instanceData'] as Body)['wid'] = '';
  return [
    { ...notAuthorized, stateInstance: 'notAuthorized' },
    { ...b.base('stateInstanceChanged', 30), stateInstance: 'starting' },
    { ...b.base('stateInstanceChanged', 60), stateInstance: 'authorized' },
    // quotaExceeded carries no timestamp (see fixtures/quotaExceeded.json).
    {
      typeWebhook: 'quotaExceeded',
      instanceData: b.instance(),
      quotaData: {
        method: 'correspondents',
        used: 3,
        total: 3,
        status: 'CORRESPONDENTS_QUOTA_EXCEEDED',
        description:
          'Monthly quota has been exceeded. You can only send or receive messages from following chats: 10001234560@c.us, 10001234561@c.us, 10001234562@c.us. Please go to your personal account and change the tariff to business https://console.green-api.com',
      },
    },
    { ...b.base('stateInstanceChanged', 120), stateInstance: 'yellowCard' },
    { ...b.base('stateInstanceChanged', 180), stateInstance: 'authorized' },
  ];
}

function outgoingCalls(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'outgoing-calls');
  return [b.outgoingCall(b.id('answered', 'phone'), 'pickUp', 95, 95), b.outgoingCall(b.id('unanswered', 'phone'), 'hungUp', 0, 160)];
}

function legacyStatuses(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'legacy-statuses');
  const a = b.id('missed', 'call');
  const c = b.id('hangUp', 'call');
  return [b.incomingCall(a, 'offer', 0), b.incomingCall(a, 'missed', 20), b.incomingCall(c, 'offer', 60), b.incomingCall(c, 'hangUp', 66)];
}

function unhandledTypes(opts: ScenarioOptions): Body[] {
  const b = new Builder(opts, 'unhandled-types');
  return [
    { ...b.base('statusInstanceChanged', 0), statusInstance: 'online' },
    {
      ...b.base('deviceInfo', 5),
      deviceData: { platform: 'android', deviceManufacturer: 'Samsung', deviceModel: 'SM-A525F', osVersion: '13', waVersion: '2.24.10.85', battery: 64 },
    },
    { ...b.base('incomingBlock', 10), chatId: '10000000000@c.us', chatState: 'blocked' },
  ];
}

const BASE: Record<string, Scenario> = {
  'answered-call': {
    description: 'An incoming call that is answered: offer, then pickUp 12 s later (same idMessage).',
    notifications: call('answered-call', 'pickUp', 12),
  },
  'missed-call': {
    description: 'An incoming call nobody answers: offer, then declined 30 s later (the caller did not wait).',
    notifications: call('missed-call', 'declined', 30),
  },
  'rejected-call': {
    description: 'An incoming call the operator rejects: offer, then hungUp 9 s later.',
    notifications: call('rejected-call', 'hungUp', 9),
  },
  messages: {
    description:
      'A conversation: incoming text, a text from the phone, a text and a document via the API with sent/delivered/read statuses, an incoming document and location, a second chat.',
    notifications: messages,
  },
  duplicates: {
    description: 'Duplicate webhooks: an incoming message twice, and a call whose end comes twice.',
    notifications: duplicates,
  },
  'out-of-order': {
    description: 'Delayed webhooks: pickUp before offer; read before delivered before the message itself.',
    notifications: outOfOrder,
  },
  'state-changes': {
    description: 'Instance state changes (notAuthorized, starting, authorized, yellowCard, authorized) and a quotaExceeded.',
    notifications: stateChanges,
  },
  'outgoing-calls': {
    description: 'Outgoing calls (beta): one answered (95 s), one not answered.',
    notifications: outgoingCalls,
  },
  'legacy-statuses': {
    description: 'Incoming calls ending with the older spellings: missed, and hangUp.',
    notifications: legacyStatuses,
  },
  'unhandled-types': {
    description: 'Notification types a consumer may not handle (statusInstanceChanged, deviceInfo, incomingBlock): they must still be deleted.',
    notifications: unhandledTypes,
  },
};

/**
 * Builds a scenario so that its last notification is stamped `now` and the others before it, as a
 * platform that is delivering what just happened: a simulator never sends times from the future.
 */
function endingNow(build: Scenario['notifications']): Scenario['notifications'] {
  return (opts) => {
    const t0 = unixSeconds(opts.now);
    const first = build(opts);
    const last = Math.max(t0, ...first.map((b) => (typeof b.timestamp === 'number' ? b.timestamp : t0)));
    return last === t0 ? first : build({ ...opts, now: opts.now - (last - t0) * (opts.now < 1e11 ? 1 : 1000) });
  };
}

/**
 * The scenarios by name. `all` is every other scenario in this order, each 10 minutes after the
 * previous one. Every scenario ends at `now` (see `endingNow`).
 */
const ALL: Record<string, Scenario> = {
  ...BASE,
  all: {
    description: `Every scenario in turn: ${Object.keys(BASE).join(', ')}.`,
    notifications: (opts) => {
      const out: Body[] = [];
      let shift = 0;
      const step = opts.now < 1e11 ? 600 : 600_000;
      for (const s of Object.values(BASE)) {
        out.push(...s.notifications({ ...opts, now: opts.now + shift }));
        shift += step;
      }
      return out;
    },
  },
};

export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(Object.entries(ALL).map(([name, s]) => [name, { ...s, notifications: endingNow(s.notifications) }]));

/** The scenario names, `all` last. */
export const SCENARIO_NAMES: readonly string[] = Object.keys(SCENARIOS);
