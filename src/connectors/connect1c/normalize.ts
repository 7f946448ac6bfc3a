/**
 * The 1С-Коннект normalizer: one `<Event …>` of the desktop application's "API приложений"
 * (seed 003), as an XML string already decoded from UTF-16, to normalized events. Pure: no I/O,
 * no clock, no Node built-ins (times are converted with `Intl.DateTimeFormat`).
 *
 * Identity (the dedupe key, DESIGN §2): `${Event@ID}|${State}` (State empty when the event has
 * none). `nativetype`: `${Object}/${State}`, `${Object}` without a State, and
 * `AgentOnlineStatus/${Status}` for online statuses. All mappings are in the tables below
 * (`OBJECTS`, `CALL_RESULTS`, `TREATMENT_STATES`, `ONLINE_STATUSES`, `CHAT_KEYS`);
 * `docs/events.md` (1С-Коннект) documents them.
 *
 * Errors: XML that is not well-formed, has a DTD or entity declarations or is too large is refused
 * by `parseXml` (`SB_ERR_INGEST_MALFORMED`); a root other than `<Event>`, an Event without `ID`,
 * and a present but unreadable time or number are `SB_ERR_INGEST_INVALID_PAYLOAD`. Anything else —
 * an unknown Object, Mode or State, or an event without the id its mapping needs — becomes
 * `native.unmapped` with a reason: a well-formed Event is never dropped.
 */
import { abbreviate, collector, compact, ConfigError, describeValue, invalidPayload, nz, parseDateTime, toIsoUtc, unmapped } from '../../core/index.js';
import type { CallOutcome, DataWithoutNative, Direction, EventType, NormalizeContext, Normalizer, Party, SwitchboardEvent } from '../../core/index.js';
import { childText, parseXml, type XmlElement } from './xml.js';

const PLATFORM = 'connect1c';

/** The zone of the application's local times when the connector sets none (`settings.timeZone`). */
export const DEFAULT_TIME_ZONE = 'Europe/Moscow';

// ─── local time → UTC (Intl only: works in browsers) ─────────────────────────────────────────────

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | undefined {
  const cached = formatters.get(timeZone);
  if (cached) return cached;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return undefined;
  }
  formatters.set(timeZone, fmt);
  return fmt;
}

/** True when `timeZone` is an IANA zone name this runtime knows (for the connector's settings schema). */
export function isTimeZone(timeZone: string): boolean {
  return timeZone !== '' && formatterFor(timeZone) !== undefined;
}

/** The zone's offset from UTC at instant `t` (ms): its wall clock read as if UTC, minus `t`. */
function offsetAt(fmt: Intl.DateTimeFormat, t: number): number {
  const whole = Math.floor(t / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(whole)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute ?? 0, p.second ?? 0);
  return wall - whole;
}


/**
 * Reads a wall-clock time of the zone `timeZone` (`2019-01-31T12:47:28`, optional seconds and
 * fraction, `T` or a space) as ISO 8601 UTC. A time that already names its offset (`Z`, `+03:00`)
 * is taken as it is. Daylight saving is handled: the offsets in force a day before and a day after
 * are tried, and those that reproduce the wall time kept — the earlier instant when the wall time
 * occurs twice (clocks turned back), and for a wall time that does not exist (clocks turned
 * forward) the offset before the change, i.e. the time is moved forward by the gap.
 * Throws `SB_ERR_INGEST_INVALID_PAYLOAD` naming `field` for an unreadable or impossible time, and
 * `ConfigError` for an unknown zone.
 *
 * @example localToUtc('2019-01-31T12:47:28', 'Europe/Moscow') // → '2019-01-31T09:47:28.000Z'
 */
export function localToUtc(local: string, timeZone: string, field = 'time'): string {
  const fmt = formatterFor(timeZone);
  if (!fmt) throw new ConfigError([{ path: 'settings.timeZone', expected: 'an IANA time zone such as "Europe/Moscow"', found: JSON.stringify(timeZone) }]);
  const parts = parseDateTime(local);
  if (!parts) {
    // The form of a date and time, but not a real one (February 30, hour 24, a year before 1900).
    if (/^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(local)) invalidPayload(`${field}: ${describeValue(local)} is not a valid date and time`);
    return invalidPayload(`${field}: expected a local time like "2019-01-31T12:47:28", found ${describeValue(local)}`);
  }
  if (parts.offsetMs !== undefined) return toIsoUtc(parts.wallMs - parts.offsetMs, field);
  const t0 = parts.wallMs;
  const before = offsetAt(fmt, t0 - DAY_MS);
  const after = offsetAt(fmt, t0 + DAY_MS);
  const valid = [t0 - before, t0 - after].filter((t) => offsetAt(fmt, t) === t0 - t);
  const instant = valid.length > 0 ? Math.min(...valid) : t0 - before;
  return toIsoUtc(instant, field);
}

// ─── the event ────────────────────────────────────────────────────────────────────────────────

/** One parsed `<Event>` and what every mapping needs from it. */
interface Ev {
  readonly xml: string;
  readonly root: XmlElement;
  readonly ctx: NormalizeContext;
  readonly id: string;
  readonly object: string | undefined;
  readonly mode: string | undefined;
  readonly initiator: string | undefined;
  readonly state: string | undefined;
  readonly timeZone: string;
  readonly nativetype: string;
  readonly identity: string;
  /** The event's `Time` in UTC; undefined when it has none (the receipt time stands in). */
  readonly time: string | undefined;
}

/** The non-empty text of the child element `name`. */
function text(ev: Ev, name: string): string | undefined {
  return nz(childText(ev.root, name));
}

/** All text of an element and its descendants (`Comments` and `MessageBody` may hold markup). */
function deepText(el: XmlElement): string {
  if (el.children.length === 0) return el.text;
  return [el.text, ...el.children.map(deepText)].filter((s) => s !== '').join(' ');
}

function deepChildText(ev: Ev, name: string): string | undefined {
  const el = ev.root.children.find((c) => c.name === name);
  return el ? nz(deepText(el)) : undefined;
}

function what(ev: Ev, field: string): string {
  return `connect1c ${abbreviate(ev.nativetype, 60)}: ${field}`;
}

const NUMBER = /^\d+(?:[.,]\d+)?$/;

/** A non-negative number (seconds, bytes, a rating) from an element or attribute value. */
function numberOf(ev: Ev, value: string | undefined, field: string): number | undefined {
  const v = nz(value?.trim());
  if (v === undefined) return undefined;
  if (!NUMBER.test(v)) invalidPayload(`${what(ev, field)}: expected a non-negative number, found ${describeValue(value)}`);
  return Number(v.replace(',', '.'));
}

function num(ev: Ev, name: string): number | undefined {
  return numberOf(ev, text(ev, name), `<${name}>`);
}

function timeOf(ev: Ev, value: string | undefined, field: string): string | undefined {
  const v = nz(value?.trim());
  return v === undefined ? undefined : localToUtc(v, ev.timeZone, what(ev, field));
}

function time(ev: Ev, name: string): string | undefined {
  return timeOf(ev, text(ev, name), `<${name}>`);
}

/** A rating `Assessment` (1..5 on a five-point scale), or undefined when absent. */
function assessment(ev: Ev): number | undefined {
  const rating = num(ev, 'Assessment');
  if (rating !== undefined && (rating < 1 || rating > 5)) invalidPayload(`${what(ev, '<Assessment>')}: expected a rating 1..5, found ${describeValue(text(ev, 'Assessment'))}`);
  return rating;
}

type Emitted = SwitchboardEvent[];

function skip(ev: Ev, reason: string): Emitted {
  return [unmapped(PLATFORM, ev.ctx, ev.xml, ev.nativetype, reason, ev.identity, ev.time)];
}

/** Emits one event of `type` for the event; everything a mapping emits goes through here. */
function emit<T extends EventType>(ev: Ev, type: T, subject: string, data: DataWithoutNative<T>): Emitted {
  const out = collector(PLATFORM, ev.ctx, ev.xml, ev.identity, ev.nativetype);
  out.emit(type, subject, data, ev.time);
  return out.events;
}

// ─── modes: the chat an event belongs to ──────────────────────────────────────────────────────

/**
 * Mode → the elements that name its chat, joined with `:` into the conversation key (seed:
 * "Возможные места возникновения события").
 */
const CHAT_KEYS: Readonly<Record<string, readonly string[]>> = {
  ServicesClients: ['ServiceID', 'UserID'], // the service line's chat with that user
  Colleagues: ['ColleagueID'],
  PersonalContacts: ['PersonalContactID'],
  GroupChats: ['GroupChatRoomID'],
  Softphone: ['CallTo'], // the other party's number
};

function chatFields(ev: Ev): readonly string[] | undefined {
  return ev.mode !== undefined && Object.hasOwn(CHAT_KEYS, ev.mode) ? CHAT_KEYS[ev.mode] : undefined;
}

/** The conversation key of the event's chat, or undefined when the Mode or its ids are missing. */
function chatKey(ev: Ev): string | undefined {
  const fields = chatFields(ev);
  if (!fields) return undefined;
  const parts = fields.map((f) => text(ev, f));
  return parts.every((p) => p !== undefined) ? parts.join(':') : undefined;
}

/** Why an event has no chat key, for `native.unmapped`. */
function noChatKey(ev: Ev): string {
  const fields = chatFields(ev);
  if (!fields) return `${ev.nativetype} in Mode ${ev.mode === undefined ? '(none)' : `"${ev.mode}"`}: no chat to key the conversation by (known modes: ${Object.keys(CHAT_KEYS).join(', ')})`;
  return `${ev.nativetype} in Mode "${ev.mode ?? ''}" without ${fields.map((f) => `<${f}>`).join(' and ')} (the chat key)`;
}

const INITIATORS: Readonly<Record<string, Direction>> = { Incoming: 'inbound', Self: 'outbound' };

function direction(ev: Ev): Direction | undefined {
  return ev.initiator !== undefined && Object.hasOwn(INITIATORS, ev.initiator) ? INITIATORS[ev.initiator] : undefined;
}

/**
 * A person of the event by id. In a service-line chat the user (`UserID`) is the client and anyone
 * else a specialist; colleagues are specialists; a Softphone `CallTo` is a phone number.
 */
function party(ev: Ev, id: string): Party {
  switch (ev.mode) {
    case 'ServicesClients':
      return { id, role: id === text(ev, 'UserID') ? 'client' : 'operator' };
    case 'Colleagues':
      return { id, role: 'operator' };
    case 'Softphone':
      return id === text(ev, 'CallTo') ? { id, phone: id } : { id };
    default:
      return { id };
  }
}

/** The conversation fields every conversation and message event carries. */
function conversation(ev: Ev, conversationId: string) {
  const user = ev.mode === 'ServicesClients' ? text(ev, 'UserID') : undefined;
  return compact({
    conversationId,
    client: user === undefined ? undefined : { id: user, role: 'client' as const },
    channel: ev.mode === 'ServicesClients' ? text(ev, 'ServiceID') : undefined,
  });
}

// ─── Call ─────────────────────────────────────────────────────────────────────────────────────

interface CallEnd {
  readonly outcome: CallOutcome;
  readonly reason: string;
}

/** CallResult → outcome and reason (seed: "Возможные значения тега CallResult"). */
const CALL_RESULTS: Readonly<Record<string, CallEnd>> = {
  Success: { outcome: 'answered', reason: 'answered' }, // успешное завершение разговора
  NobodyToAnswer: { outcome: 'missed', reason: 'no-operator' }, // не было свободных специалистов
  RingingTimeout: { outcome: 'missed', reason: 'timeout' }, // превышено время дозвона
  RejectedByCallee: { outcome: 'rejected', reason: 'callee-rejected' }, // вызываемый отбил вызов
  // звонящий отбил вызов: before an answer a missed call; answered when AcceptTime and BillSec > 0 say so
  RejectedByCaller: { outcome: 'missed', reason: 'caller-hung-up' },
  PBXunreachableForMe: { outcome: 'failed', reason: 'pbx-unreachable' }, // мне не удалось соединиться с АТС
  PBXunreachableForTarget: { outcome: 'failed', reason: 'pbx-unreachable-for-target' }, // собеседнику не удалось
  TargetHaveNoSoundDevices: { outcome: 'failed', reason: 'no-sound-device-target' }, // у собеседника нет звуковых устройств
  IHaveNoSoundDevices: { outcome: 'failed', reason: 'no-sound-device' }, // у меня нет звуковых устройств
};

/** A CallResult the seed does not list, or none at all: kept in `native`, never an error. */
const UNKNOWN_CALL_RESULT: CallEnd = { outcome: 'failed', reason: 'unknown' };

function callEnd(ev: Ev, talkSec: number | undefined): CallEnd {
  const result = text(ev, 'CallResult');
  const end = result !== undefined && Object.hasOwn(CALL_RESULTS, result) ? (CALL_RESULTS[result] ?? UNKNOWN_CALL_RESULT) : UNKNOWN_CALL_RESULT;
  if (result === 'RejectedByCaller' && text(ev, 'AcceptTime') !== undefined && (talkSec ?? 0) > 0) return { outcome: 'answered', reason: 'caller-hung-up' };
  return end;
}

/** The fields every call event carries, or the reason it cannot be keyed. */
function callOf(ev: Ev) {
  const callId = text(ev, 'CallID');
  if (callId === undefined) return undefined;
  const fromId = text(ev, 'CallFrom');
  const toId = text(ev, 'CallTo');
  const from = fromId === undefined ? undefined : party(ev, fromId);
  const to = toId === undefined ? undefined : party(ev, toId);
  const operator = ev.mode === 'ServicesClients' ? [from, to].find((p) => p?.role === 'operator') : undefined;
  return {
    subject: `call/${callId}`,
    call: compact({ callId, direction: direction(ev), from, to, operator, conversationId: chatKey(ev) }),
  };
}

type Mapping = (ev: Ev) => Emitted;

function callMapping(map: (ev: Ev, c: NonNullable<ReturnType<typeof callOf>>) => Emitted): Mapping {
  return (ev) => {
    const c = callOf(ev);
    return c ? map(ev, c) : skip(ev, `${ev.nativetype} without <CallID>`);
  };
}

const callRinging = callMapping((ev, { subject, call }) => emit(ev, 'call.ringing', subject, compact({ ...call, startedAt: time(ev, 'StartTime') })));

const callAnswered = callMapping((ev, { subject, call }) => emit(ev, 'call.answered', subject, compact({ ...call, answeredAt: time(ev, 'AcceptTime') })));

const callEnded = callMapping((ev, { subject, call }) => {
  const talkSec = num(ev, 'BillSec');
  const end = callEnd(ev, talkSec);
  return emit(
    ev,
    'call.ended',
    subject,
    compact({
      ...call,
      ...end,
      durationSec: num(ev, 'Duration'),
      talkSec,
      startedAt: time(ev, 'StartTime'),
      // AcceptTime on a call that was not answered would mislead: it stays in `native` only.
      answeredAt: end.outcome === 'answered' ? time(ev, 'AcceptTime') : undefined,
      endedAt: time(ev, 'EndTime'),
    }),
  );
});

const callRecordingReady = callMapping((ev, { subject, call }) => {
  const url = text(ev, 'CallRecordLink');
  if (url === undefined) return skip(ev, `${ev.nativetype} without <CallRecordLink>`);
  return emit(ev, 'call.recording-ready', subject, { ...call, url });
});

const callRated = callMapping((ev, { subject, call }) => {
  const rating = assessment(ev);
  if (rating === undefined) return skip(ev, `${ev.nativetype} without <Assessment>`);
  return emit(ev, 'call.rated', subject, compact({ ...call, rating, scale: 5, comment: deepChildText(ev, 'Comments') }));
});

// ─── Message, PersonalInfo, AgentOnlineStatus ─────────────────────────────────────────────────

const messageCreated: Mapping = (ev) => {
  const key = chatKey(ev);
  if (key === undefined) return skip(ev, noChatKey(ev));
  const dir = direction(ev);
  if (dir === undefined) return skip(ev, `${ev.nativetype} with Initiator ${ev.initiator === undefined ? '(none)' : `"${ev.initiator}"`}: expected Incoming or Self to tell the direction`);
  const authorId = text(ev, 'AuthorID') ?? (ev.mode === 'GroupChats' ? text(ev, 'MemberID') : undefined);
  const specialist = ev.mode === 'ServicesClients' ? text(ev, 'SpecialistID') : undefined;
  return emit(
    ev,
    'message.created',
    `conversation/${key}`,
    compact({
      ...conversation(ev, key),
      operator: specialist === undefined ? undefined : { id: specialist, role: 'operator' as const },
      // MessageID is documented for events; without it the event's own ID stands in.
      messageId: text(ev, 'MessageID') ?? ev.id,
      direction: dir,
      author: authorId === undefined ? undefined : party(ev, authorId),
      kind: 'text',
      text: deepChildText(ev, 'MessageBody'),
      attachments: [],
      quickReplies: [],
      sentAt: time(ev, 'Sended'),
    }),
  );
};

/** Personal-data elements (seed: PersonalInfo), kept under their native names in `fields`. */
const PERSONAL_FIELDS = ['Name', 'SecondaryName', 'Surname', 'Birthday', 'Phone', 'EMail'] as const;

/** Whose personal data an event carries, per Mode: the subject kind and the element naming them. */
const CONTACT_IDS: Readonly<Record<string, { readonly kind: string; readonly field: string }>> = {
  ServicesClients: { kind: 'client', field: 'UserID' },
  Colleagues: { kind: 'operator', field: 'ColleagueID' },
  PersonalContacts: { kind: 'contact', field: 'PersonalContactID' },
  GroupChats: { kind: 'contact', field: 'MemberID' },
  Softphone: { kind: 'contact', field: 'CallTo' },
};

/**
 * PersonalInfo: `contact.updated` for the personal data, and — the seed's table runs PersonalInfo
 * and AgentOnlineStatus together — `operator.status-changed` when it also carries `<Status>`.
 */
const contactUpdated: Mapping = (ev) => {
  const who = ev.mode !== undefined && Object.hasOwn(CONTACT_IDS, ev.mode) ? CONTACT_IDS[ev.mode] : undefined;
  const contactId = who ? text(ev, who.field) : undefined;
  if (!who || contactId === undefined) {
    const looked = who ? `<${who.field}>` : `a Mode of ${Object.keys(CONTACT_IDS).join(', ')}`;
    return skip(ev, `${ev.nativetype} in Mode ${ev.mode === undefined ? '(none)' : `"${ev.mode}"`} without ${looked} to name the contact`);
  }
  const fields: Record<string, string> = {};
  for (const f of PERSONAL_FIELDS) {
    const v = text(ev, f);
    if (v !== undefined) fields[f] = v;
  }
  // ФИО order: Фамилия Имя Отчество.
  const name = [fields.Surname, fields.Name, fields.SecondaryName].filter((s) => s !== undefined).join(' ');
  const out = collector(PLATFORM, ev.ctx, ev.xml, ev.identity, ev.nativetype);
  out.emit('contact.updated', `${who.kind}/${contactId}`, compact({ contactId, name: nz(name), phone: fields.Phone, email: fields.EMail, fields }), ev.time);
  const status = onlineStatus(ev, contactId);
  if (status && !('missing' in status)) out.emit('operator.status-changed', `operator/${status.operatorId}`, compact({ ...status, operator: nz(name) === undefined ? undefined : { id: status.operatorId, name, role: 'operator' as const } }), ev.time);
  return out.events;
};

/** Online status → operator status (seed: "Возможные значения тега Status"). */
const ONLINE_STATUSES: Readonly<Record<string, string>> = {
  Offline: 'offline',
  Connecting: 'connecting', // «Не в сети»: connecting to the service
  Online: 'online', // В сети
  Away: 'away', // Нет на месте
  Talking: 'busy', // Разговариваю
  DoNotDisturb: 'dnd', // Не беспокоить
  RedirectToExternalPhone: 'redirected', // Переадресация на внешний телефон
  BusyForNewRequests: 'busy-for-new-requests', // Занят для новых обращений
};

/** `SomeNewStatus` → `some-new-status`, `PBXdown` → `pbxdown`. */
function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** Whose status it is: mine (Initiator Self) or the other side's, by the Mode's id elements. */
const STATUS_OWNER_IDS = ['ColleagueID', 'PersonalContactID', 'MemberID', 'UserID', 'AuthorID'] as const;

/** The account the application runs under, which the events never name. */
const SELF_OPERATOR = 'self';

/**
 * The online status an event carries (`<Status>`) and whose it is: the account itself for
 * Initiator Self, else the Mode's id element (or `fallbackId`). Undefined without a `<Status>`.
 */
function onlineStatus(ev: Ev, fallbackId?: string): { operatorId: string; status: string; nativeStatus: string } | { missing: string } | undefined {
  const nativeStatus = text(ev, 'Status');
  if (nativeStatus === undefined) return undefined;
  let operatorId: string | undefined;
  if (ev.initiator === 'Self') operatorId = text(ev, 'AuthorID') ?? SELF_OPERATOR;
  else for (const f of STATUS_OWNER_IDS) operatorId ??= text(ev, f);
  operatorId ??= fallbackId;
  if (operatorId === undefined) return { missing: `${ev.nativetype} without ${STATUS_OWNER_IDS.map((f) => `<${f}>`).join(', ')} to name the operator` };
  const status = Object.hasOwn(ONLINE_STATUSES, nativeStatus) ? (ONLINE_STATUSES[nativeStatus] ?? kebab(nativeStatus)) : kebab(nativeStatus);
  return { operatorId, status, nativeStatus };
}

const statusChanged: Mapping = (ev) => {
  const s = onlineStatus(ev);
  if (s === undefined) return skip(ev, 'AgentOnlineStatus without <Status>');
  if ('missing' in s) return skip(ev, s.missing);
  return emit(ev, 'operator.status-changed', `operator/${s.operatorId}`, s);
};

// ─── RemoteAccessSession, FileTransfer ────────────────────────────────────────────────────────

interface TransferredFile {
  name?: string;
  sourceDir?: string;
  destinDir?: string;
  size?: number;
  startedAt?: string;
  durationSec?: number;
}

/** `<UploadedFiles><File Name SourceDir DestinDir Size StartTime Duration/>…</UploadedFiles>`. */
function filesOf(ev: Ev, list: string): TransferredFile[] {
  const el = ev.root.children.find((c) => c.name === list);
  if (!el) return [];
  return el.children
    .filter((c) => c.name === 'File')
    .map((f, i) => {
      const at = (attr: string) => `<${list}>/<File>[${i}]@${attr}`;
      const a = f.attrs;
      return compact({
        name: nz(a.Name),
        sourceDir: nz(a.SourceDir),
        destinDir: nz(a.DestinDir),
        size: numberOf(ev, a.Size, at('Size')),
        startedAt: timeOf(ev, a.StartTime, at('StartTime')),
        durationSec: numberOf(ev, a.Duration, at('Duration')),
      });
    });
}

function sessionMapping(map: (ev: Ev, sessionId: string) => Emitted): Mapping {
  return (ev) => {
    const sessionId = text(ev, 'SessionID');
    return sessionId === undefined ? skip(ev, `${ev.nativetype} without <SessionID>`) : map(ev, sessionId);
  };
}

const remoteStarted = sessionMapping((ev, sessionId) =>
  emit(
    ev,
    'remote-session.started',
    `remote-session/${sessionId}`,
    compact({
      sessionId,
      authorId: text(ev, 'AuthorID'),
      hostName: text(ev, 'HostCompName'),
      adminName: text(ev, 'AdminCompName'),
      hostIp: text(ev, 'HostIP'),
      adminIp: text(ev, 'AdminIP'),
      startedAt: time(ev, 'StartTime'),
      conversationId: chatKey(ev),
    }),
  ),
);

const remoteEnded = sessionMapping((ev, sessionId) =>
  emit(
    ev,
    'remote-session.ended',
    `remote-session/${sessionId}`,
    compact({
      sessionId,
      authorId: text(ev, 'AuthorID'),
      endedAt: time(ev, 'EndTime'),
      durationSec: num(ev, 'Duration'),
      uploadedFiles: filesOf(ev, 'UploadedFiles'),
      downloadedFiles: filesOf(ev, 'DownloadedFiles'),
      conversationId: chatKey(ev),
    }),
  ),
);

const fileTransferred: Mapping = (ev) => {
  const fileId = text(ev, 'FileTransferID');
  if (fileId === undefined) return skip(ev, `${ev.nativetype} without <FileTransferID>`);
  return emit(
    ev,
    'file.transferred',
    `file/${fileId}`,
    compact({ fileId, name: text(ev, 'FileName'), size: num(ev, 'FileSize'), durationSec: num(ev, 'TransferDuration'), conversationId: chatKey(ev) }),
  );
};

// ─── Treatment (a service-line request, «обращение»), ServiceRequest (a ticket) ───────────────

/** The conversation fields of a Treatment event: the chat, its user, and the appointed specialist once there is one. */
function treatmentConversation(ev: Ev, key: string) {
  const specialist = text(ev, 'AppointedSpecialistID');
  return compact({ ...conversation(ev, key), operator: specialist === undefined ? undefined : { id: specialist, role: 'operator' as const } });
}

function treatmentMapping(map: (ev: Ev, subject: string, conv: ReturnType<typeof treatmentConversation>) => Emitted): Mapping {
  return (ev) => {
    const key = chatKey(ev);
    return key === undefined ? skip(ev, noChatKey(ev)) : map(ev, `conversation/${key}`, treatmentConversation(ev, key));
  };
}

/**
 * Treatment State → what it becomes. `Started`/`Created` are not in the seed (it lists the states
 * from `Appointed` on) but would be a new request waiting for a specialist. `Comments` carries the
 * client's comment on the rating: with its `Assessment` (states only grow, so it normally has one)
 * a `conversation.rated` with the comment; without one there is no rating to report, so the
 * request's change of state is reported as `ticket.changed` on the TreatmentID.
 */
const TREATMENT_STATES: Readonly<Record<string, Mapping>> = {
  Started: treatmentMapping((ev, subject, conv) => emit(ev, 'conversation.queued', subject, conv)),
  Created: treatmentMapping((ev, subject, conv) => emit(ev, 'conversation.queued', subject, conv)),
  Appointed: treatmentMapping((ev, subject, conv) => emit(ev, 'conversation.assigned', subject, compact({ ...conv, waitSec: num(ev, 'WaitTime') }))),
  Finished: treatmentMapping((ev, subject, conv) => emit(ev, 'conversation.closed', subject, compact({ ...conv, durationSec: num(ev, 'TreatmentDuration') }))),
  ServiceQualityAssessment: treatmentMapping((ev, subject, conv) => {
    const rating = assessment(ev);
    if (rating === undefined) return skip(ev, `${ev.nativetype} without <Assessment>`);
    return emit(ev, 'conversation.rated', subject, compact({ ...conv, rating, scale: 5, comment: deepChildText(ev, 'Comments') }));
  }),
  Comments: treatmentMapping((ev, subject, conv) => {
    const rating = assessment(ev);
    if (rating !== undefined) return emit(ev, 'conversation.rated', subject, compact({ ...conv, rating, scale: 5, comment: deepChildText(ev, 'Comments') }));
    const ticketId = text(ev, 'TreatmentID');
    if (ticketId === undefined) return skip(ev, `${ev.nativetype} without <Assessment> or <TreatmentID>`);
    return emit(ev, 'ticket.changed', `ticket/${ticketId}`, { ticketId, state: 'Comments', conversationId: conv.conversationId });
  }),
};

/** Elements that may name a ticket, in order of preference (the seed lists ServiceRequest without its tags). */
const TICKET_IDS = ['ServiceRequestID', 'RequestID', 'TicketID', 'TreatmentID'] as const;

const ticketChanged: Mapping = (ev) => {
  let ticketId: string | undefined;
  for (const f of TICKET_IDS) ticketId ??= text(ev, f);
  if (ticketId === undefined) return skip(ev, `${ev.nativetype} without ${TICKET_IDS.map((f) => `<${f}>`).join(', ')} to name the ticket`);
  return emit(ev, 'ticket.changed', `ticket/${ticketId}`, compact({ ticketId, state: ev.state, conversationId: chatKey(ev) }));
};

// ─── the table of objects and states ──────────────────────────────────────────────────────────

interface ObjectMapping {
  /** State → mapping; `''` is an event without a State. */
  readonly states: Readonly<Record<string, Mapping>>;
  /** The mapping of any other State (and of none), when the object takes every State alike. */
  readonly anyState?: Mapping;
}

/** Object → its mappings (seed: "Возможные объекты события"). Anything else is `native.unmapped`. */
const OBJECTS: Readonly<Record<string, ObjectMapping>> = {
  Call: {
    states: {
      Started: callRinging,
      CallAccepted: callAnswered,
      Finished: callEnded,
      MP3RecordReady: callRecordingReady,
      SoundQualityAssessment: callRated,
    },
  },
  Message: { states: { '': messageCreated } },
  PersonalInfo: { states: { '': contactUpdated } },
  AgentOnlineStatus: { states: { '': statusChanged } },
  RemoteAccessSession: { states: { Started: remoteStarted, Finished: remoteEnded } },
  // "Файл, выложенный в ленту чата": the event without a State, or once Finished (with TransferDuration).
  FileTransfer: { states: { '': fileTransferred, Finished: fileTransferred } },
  Treatment: { states: TREATMENT_STATES },
  ServiceRequest: { states: {}, anyState: ticketChanged },
};

function timeZoneOf(ctx: NormalizeContext): string {
  const tz = ctx.settings?.timeZone;
  if (tz === undefined) return DEFAULT_TIME_ZONE;
  if (typeof tz !== 'string' || !isTimeZone(tz)) throw new ConfigError([{ path: 'settings.timeZone', expected: 'an IANA time zone such as "Europe/Moscow"', found: describeValue(tz) }]);
  return tz;
}

function readEvent(xml: string, ctx: NormalizeContext): Ev {
  const root = parseXml(xml);
  if (root.name !== 'Event') {
    const hint = root.name === 'CommandResult' ? ' (a command result: the connector answers it, it is not an event)' : '';
    invalidPayload(`connect1c: expected an <Event> root element, found <${root.name}>${hint}`);
  }
  const id = nz(root.attrs.ID?.trim());
  if (id === undefined) invalidPayload('connect1c: <Event> without an ID attribute (the event identity)');
  const object = nz(root.attrs.Object?.trim());
  const state = nz(childText(root, 'State'));
  const status = object === 'AgentOnlineStatus' ? nz(childText(root, 'Status')) : undefined;
  const nativetype = `${object ?? 'Event'}${status !== undefined ? `/${status}` : state !== undefined ? `/${state}` : ''}`;
  const timeZone = timeZoneOf(ctx);
  const rawTime = nz(root.attrs.Time?.trim());
  return {
    xml,
    root,
    ctx,
    id,
    object,
    mode: nz(root.attrs.Mode?.trim()),
    initiator: nz(root.attrs.Initiator?.trim()),
    state,
    timeZone,
    nativetype,
    identity: `${id}|${state ?? ''}`,
    time: rawTime === undefined ? undefined : localToUtc(rawTime, timeZone, `connect1c ${abbreviate(nativetype, 60)}: Event@Time`),
  };
}

/**
 * Normalizes one 1С-Коннект `<Event>` (an XML string). `ctx.settings.timeZone` is the IANA zone of
 * the application's local times (default Europe/Moscow).
 *
 * @example
 * const events = normalizeConnect1c(
 *   '<Event ID="d5d0…" Time="2019-01-31T12:47:28" Mode="ServicesClients" Object="Call" Initiator="Incoming">' +
 *   '<CallID>cc7c…</CallID><State>Finished</State><CallResult>Success</CallResult></Event>',
 *   { connectorId: 'office-1c', receivedAt: '2019-01-31T09:47:29.000Z' });
 * // → [call.ended on subject call/cc7c…, outcome answered]
 */
export const normalizeConnect1c: Normalizer = (payload, ctx) => {
  if (typeof payload !== 'string') invalidPayload(`connect1c: expected an XML string holding one <Event>, found ${describeValue(payload)}`);
  const ev = readEvent(payload, ctx);
  if (ev.object === undefined) return skip(ev, '<Event> without an Object attribute');
  const mapping = Object.hasOwn(OBJECTS, ev.object) ? OBJECTS[ev.object] : undefined;
  if (!mapping) return skip(ev, `no mapping for Object "${ev.object}"`);
  const key = ev.state ?? '';
  const map = Object.hasOwn(mapping.states, key) ? mapping.states[key] : mapping.anyState;
  if (!map) return skip(ev, ev.state === undefined ? `${ev.object} without a <State>` : `no mapping for ${ev.object} State "${ev.state}"`);
  return map(ev);
};
