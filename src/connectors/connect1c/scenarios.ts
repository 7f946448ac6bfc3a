/**
 * 1С-Коннект scenarios: ready-made sequences of the application's `<Event>` XML (seed 003,
 * PLATFORMS.md "1С-Коннект") for the simulator, the tests and the demo — and one scenario of bad
 * frames mixed with good events.
 *
 * Every scenario is a pure function of `{ now, timeZone }`: the same options give the same XML,
 * and a different `now` gives different event and call ids, so two runs do not dedupe each other.
 * `Time` and the other stamps are local time without a zone, as the application writes them, in
 * `timeZone` (default Europe/Moscow).
 *
 * Shapes follow the seed: attributes `ID Time Mode Object Initiator`; the mode's properties
 * (`ClientID`/`UserID`/`ServiceID`, `ColleagueID`, `PersonalContactID`, `CallTo`,
 * `GroupChatRoomID`/`MemberID`); then the object's, growing with `State`.
 *
 * @example
 * import { CONNECT1C_SCENARIOS, scenarioEvents } from './scenarios.js';
 * for (const frame of CONNECT1C_SCENARIOS['answered-call']!.frames({ now: Date.now() })) simulator.play([frame]);
 * scenarioEvents('chat-messages', { now: 0 }); // the XML strings only
 */
import { createHash } from 'node:crypto';
import { encodeFrame } from './framing.js';

export interface Connect1cScenarioOptions {
  /** Milliseconds since the epoch: the time of the last event (the others come before it), and the salt of the ids. */
  now: number;
  /** IANA zone of the local stamps (default Europe/Moscow). */
  timeZone?: string;
}

/** A bad frame: raw bytes and a fragment of the reason it must be quarantined with. */
export interface BadFrame {
  readonly raw: Buffer;
  readonly reason: string;
}

/** A frame of a scenario: an XML document (framed by the simulator) or raw bytes. */
export type ScenarioFrame = string | BadFrame;

export interface Connect1cScenario {
  readonly description: string;
  frames(opts: Connect1cScenarioOptions): ScenarioFrame[];
}

// ─── fixed actors ───────────────────────────────────────────────────────────────────────────────

/** The support line, its client organisation and the client's user. */
export const SCENARIO_LINE = {
  serviceId: '114c7433-4c28-11e7-80e5-0025904f970f',
  clientId: '6dd05738-1464-11e3-93b5-7054d21ab6ff',
  userId: '227e9d68-01d8-4006-ad42-d034dcb67818',
  userName: 'Иван Петров',
} as const;
/** The account the application belongs to (a specialist of the line). */
export const SCENARIO_SELF = { id: '7215fb1e-89b9-4252-befa-45e20cf9bc5b', name: 'Анна Смирнова' } as const;
/** A colleague in the "Коллеги" tab. */
export const SCENARIO_COLLEAGUE = { id: '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', name: 'Олег Козлов' } as const;
/** A personal ("Деловой") contact. */
export const SCENARIO_PERSONAL_CONTACT = { id: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', name: 'Мария Иванова' } as const;
/** A group chat and one of its members. */
export const SCENARIO_GROUP = { roomId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', memberId: '5c4b3a29-1807-4f6e-9d8c-7b6a5f4e3d2c' } as const;

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

/** A deterministic UUID (version-4 shaped) from a key. */
export function scenarioUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `2019-01-31T12:47:28`: local time in `timeZone`, no zone, as the application writes it. */
export function localTime(ms: number, timeZone = 'Europe/Moscow'): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

type Child = readonly [name: string, value: string | number] | string;

/** Builds scenario events with unique ids and a clock. */
class Builder {
  private n = 0;
  constructor(
    private readonly name: string,
    private readonly opts: Connect1cScenarioOptions,
  ) {}

  id(what: string): string {
    return scenarioUuid(`${this.name}|${what}|${this.opts.now}`);
  }

  /** Local stamp `offsetSec` seconds after the scenario's start. */
  t(offsetSec: number): string {
    return localTime(this.opts.now + offsetSec * 1000, this.opts.timeZone);
  }

  event(atSec: number, mode: string, object: string, initiator: 'Incoming' | 'Self', children: readonly Child[]): string {
    const id = this.id(`event-${this.n++}`);
    const body = children.map((c) => (typeof c === 'string' ? c : `<${c[0]}>${esc(String(c[1]))}</${c[0]}>`)).join('\n');
    return `<Event ID="${id}" Time="${this.t(atSec)}" Mode="${mode}" Object="${object}" Initiator="${initiator}">\n${body}\n</Event>`;
  }
}

function lineParties(): Child[] {
  return [
    ['ClientID', SCENARIO_LINE.clientId],
    ['UserID', SCENARIO_LINE.userId],
    ['ServiceID', SCENARIO_LINE.serviceId],
  ];
}

// ─── scenarios ──────────────────────────────────────────────────────────────────────────────────

function answeredCall(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('answered-call', opts);
  const callId = b.id('call');
  const base: Child[] = [...lineParties(), ['CallID', callId], ['CallFrom', SCENARIO_LINE.userId], ['CallTo', SCENARIO_SELF.id]];
  const started: Child[] = [...base, ['StartTime', b.t(0)]];
  const accepted: Child[] = [...started, ['AcceptTime', b.t(8)]];
  const finished: Child[] = [...accepted, ['EndTime', b.t(245)], ['Duration', 245], ['BillSec', 237], ['CallResult', 'Success']];
  const recorded: Child[] = [...finished, ['CallRecordLink', `https://records.1c-connect.example/calls/${callId}.mp3`]];
  return [
    b.event(0, 'ServicesClients', 'Call', 'Incoming', [...started, ['State', 'Started']]),
    b.event(8, 'ServicesClients', 'Call', 'Incoming', [...accepted, ['State', 'CallAccepted']]),
    b.event(245, 'ServicesClients', 'Call', 'Incoming', [...finished, ['State', 'Finished']]),
    b.event(250, 'ServicesClients', 'Call', 'Incoming', [...recorded, ['State', 'MP3RecordReady']]),
    b.event(300, 'ServicesClients', 'Call', 'Incoming', [...recorded, ['State', 'SoundQualityAssessment'], ['Assessment', 5], ['Comments', 'Спасибо, всё решили быстро & понятно']]),
  ];
}

function missedCall(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('missed-call', opts);
  const callId = b.id('call');
  const base: Child[] = [...lineParties(), ['CallID', callId], ['CallFrom', SCENARIO_LINE.userId], ['CallTo', SCENARIO_LINE.serviceId], ['StartTime', b.t(0)]];
  return [
    b.event(0, 'ServicesClients', 'Call', 'Incoming', [...base, ['State', 'Started']]),
    b.event(42, 'ServicesClients', 'Call', 'Incoming', [...base, ['State', 'Finished'], ['EndTime', b.t(42)], ['Duration', 42], ['BillSec', 0], ['CallResult', 'NobodyToAnswer']]),
  ];
}

function chatMessages(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('chat-messages', opts);
  const msg = (at: number, mode: string, initiator: 'Incoming' | 'Self', parties: Child[], author: string, text: string, extra: Child[] = []) =>
    b.event(at, mode, 'Message', initiator, [...parties, ['MessageID', b.id(`message-${at}`)], ['AuthorID', author], ['MessageBody', text], ['Sended', b.t(at)], ...extra]);
  const colleague: Child[] = [['ColleagueID', SCENARIO_COLLEAGUE.id]];
  return [
    msg(0, 'ServicesClients', 'Incoming', lineParties(), SCENARIO_LINE.userId, 'Здравствуйте! Не формируется отчёт «Баланс» за 2 квартал.'),
    msg(20, 'ServicesClients', 'Self', lineParties(), SCENARIO_SELF.id, 'Добрый день, Иван! Проверьте, пожалуйста, закрытие месяца <Июнь> & переходящие остатки.', [['SpecialistID', SCENARIO_SELF.id]]),
    msg(65, 'ServicesClients', 'Incoming', lineParties(), SCENARIO_LINE.userId, 'Получилось 👍 Спасибо!'),
    msg(70, 'Colleagues', 'Self', colleague, SCENARIO_SELF.id, 'Олег, посмотри обращение по «Балансу», пожалуйста'),
    msg(95, 'Colleagues', 'Incoming', colleague, SCENARIO_COLLEAGUE.id, 'Ок, гляну после обеда 🍲'),
    msg(120, 'PersonalContacts', 'Incoming', [['PersonalContactID', SCENARIO_PERSONAL_CONTACT.id], ['MeetingState', 'Accepted']], SCENARIO_PERSONAL_CONTACT.id, 'Напоминаю о встрече в 15:00'),
    msg(150, 'GroupChats', 'Incoming', [['GroupChatRoomID', SCENARIO_GROUP.roomId], ['MemberID', SCENARIO_GROUP.memberId]], SCENARIO_GROUP.memberId, 'Коллеги, релиз 3.0.150 выходит завтра'),
  ];
}

function remoteSession(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('remote-session', opts);
  const base: Child[] = [
    ...lineParties(),
    ['SessionID', b.id('session')],
    ['AuthorID', SCENARIO_SELF.id],
    ['StartTime', b.t(0)],
    ['HostCompName', 'БУХГАЛТЕРИЯ-01'],
    ['AdminCompName', 'SUPPORT-ANNA'],
    ['HostIP', '192.168.10.24'],
    ['AdminIP', '10.0.0.15'],
  ];
  const file = (name: string, src: string, dst: string, size: number, at: number, dur: number) =>
    `<File Name="${esc(name)}" SourceDir="${esc(src)}" DestinDir="${esc(dst)}" Size="${size}" StartTime="${b.t(at)}" Duration="${dur}"/>`;
  return [
    b.event(0, 'ServicesClients', 'RemoteAccessSession', 'Self', [...base, ['State', 'Started']]),
    b.event(900, 'ServicesClients', 'RemoteAccessSession', 'Self', [
      ...base,
      ['State', 'Finished'],
      ['EndTime', b.t(900)],
      ['Duration', 900],
      `<UploadedFiles>\n${file('Выгрузка баланса.xlsx', 'C:\\Users\\Бухгалтер\\Documents', 'D:\\Support\\In', 48_213, 300, 2)}\n${file('1Cv8.log', 'C:\\Program Files\\1cv8\\logs', 'D:\\Support\\In', 1_048_576, 310, 5)}\n</UploadedFiles>`,
      `<DownloadedFiles>\n${file('Исправление_ОСВ.epf', 'D:\\Support\\Out', 'C:\\Users\\Бухгалтер\\Desktop', 23_040, 600, 1)}\n</DownloadedFiles>`,
    ]),
  ];
}

function treatment(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('treatment', opts);
  const base: Child[] = [...lineParties(), ['TreatmentID', b.id('treatment')]];
  const appointed: Child[] = [...base, ['AppointedSpecialistID', SCENARIO_SELF.id], ['WaitTime', 35]];
  const finished: Child[] = [...appointed, ['TreatmentDuration', 1260]];
  return [
    b.event(0, 'ServicesClients', 'Treatment', 'Incoming', [...base, ['State', 'Started']]),
    b.event(35, 'ServicesClients', 'Treatment', 'Incoming', [...appointed, ['State', 'Appointed']]),
    b.event(1295, 'ServicesClients', 'Treatment', 'Incoming', [...finished, ['State', 'Finished']]),
    b.event(1400, 'ServicesClients', 'Treatment', 'Incoming', [...finished, ['State', 'ServiceQualityAssessment'], ['Assessment', 4]]),
    b.event(1460, 'ServicesClients', 'Treatment', 'Incoming', [...finished, ['State', 'Comments'], ['Assessment', 4], ['Comments', 'Помогли, но пришлось ждать ответа']]),
  ];
}

function agentStatus(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('agent-status', opts);
  const statuses = ['Connecting', 'Online', 'Talking', 'Online', 'Away', 'DoNotDisturb', 'BusyForNewRequests', 'RedirectToExternalPhone', 'Online', 'Offline'];
  return statuses.map((status, i) => b.event(i * 60, 'Colleagues', 'AgentOnlineStatus', 'Incoming', [['ColleagueID', SCENARIO_COLLEAGUE.id], ['Status', status]]));
}

function otherObjects(opts: Connect1cScenarioOptions): string[] {
  const b = new Builder('other-objects', opts);
  const callId = b.id('softphone-call');
  const softphone: Child[] = [['CallTo', '+74951234567'], ['CallID', callId], ['CallFrom', SCENARIO_SELF.id], ['StartTime', b.t(0)]];
  return [
    b.event(0, 'Softphone', 'Call', 'Self', [...softphone, ['State', 'Started']]),
    b.event(61, 'Softphone', 'Call', 'Self', [...softphone, ['AcceptTime', b.t(6)], ['EndTime', b.t(61)], ['Duration', 61], ['BillSec', 55], ['CallResult', 'Success'], ['State', 'Finished']]),
    b.event(90, 'Colleagues', 'PersonalInfo', 'Incoming', [['ColleagueID', SCENARIO_COLLEAGUE.id], ['Name', 'Олег'], ['SecondaryName', 'Викторович'], ['Surname', 'Козлов'], ['Birthday', '1987-04-12'], ['Phone', '+79161234567'], ['EMail', 'o.kozlov@example.ru']]),
    b.event(120, 'GroupChats', 'Call', 'Incoming', [['GroupChatRoomID', SCENARIO_GROUP.roomId], ['MemberID', SCENARIO_GROUP.memberId], ['CallID', b.id('group-call')], ['CallFrom', SCENARIO_GROUP.memberId], ['StartTime', b.t(120)], ['State', 'Started']]),
  ];
}

/** The bytes of one frame whose header says `length` (which may be a lie). */
function rawFrame(length: number, body: Buffer, headerTail = Buffer.alloc(2)): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16LE(length, 0);
  return Buffer.concat([header, headerTail, body]);
}

/**
 * One of each bad frame the source must quarantine (with a fragment of the reason), each kind
 * well apart from the good frames around it.
 */
export function badFrames(): Record<string, BadFrame> {
  const filler = (chars: number) => Buffer.from(`<Event ID="x">${'я'.repeat(Math.max(0, chars - 14))}`, 'utf16le');
  const odd = Buffer.concat([filler(25), Buffer.from([0x21])]);
  const loneBody = Buffer.from('<Event ID="lone-surrogate" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>X</MessageBody></Event>', 'utf16le');
  // The X becomes an unpaired high surrogate.
  const x = loneBody.indexOf(Buffer.from('X', 'utf16le'));
  loneBody.writeUInt16LE(0xd83d, x);
  const xml = (s: string) => encodeFrame(s);
  return {
    'odd-length': { raw: rawFrame(odd.length, odd), reason: `odd length ${odd.length}` },
    'short-length': { raw: rawFrame(12, Buffer.from('<Event/>    ', 'utf16le').subarray(0, 12)), reason: 'length 12 below 50' },
    'header-not-zero': { raw: rawFrame(60, filler(30), Buffer.from([0x01, 0x00])), reason: 'header bytes 2-3 not zero' },
    'lone-surrogate': { raw: rawFrame(loneBody.length, loneBody), reason: `invalid UTF-16: lone surrogate at byte ${x}` },
    'malformed-xml': { raw: xml('<Event ID="m1" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>не закрыт</Event>'), reason: 'malformed XML' },
    dtd: { raw: xml('<!DOCTYPE Event SYSTEM "file:///etc/passwd"><Event ID="d1" Mode="Colleagues" Object="Message" Initiator="Incoming"/>'), reason: 'DTD' },
    'entity-bomb': {
      raw: xml(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Event ID="b1" Mode="Colleagues" Object="Message" Initiator="Incoming"><MessageBody>&c;</MessageBody></Event>',
      ),
      reason: 'DTD',
    },
    'entity-declaration': { raw: xml('<Event ID="e1" Mode="Colleagues" Object="Message" Initiator="Incoming"><!ENTITY a "aaaaaaaaaa"><MessageBody>&a;</MessageBody></Event>'), reason: 'entity declaration' },
    'unexpected-root': { raw: xml('<Notification ID="n1" Kind="Unknown">что-то другое</Notification>'), reason: 'unexpected <Notification> element' },
  };
}

function withBadFrames(opts: Connect1cScenarioOptions): ScenarioFrame[] {
  const good = chatMessages(opts);
  const bad = Object.values(badFrames());
  const out: ScenarioFrame[] = [];
  bad.forEach((f, i) => {
    out.push(f);
    const g = good[i % good.length];
    if (g !== undefined) out.push(g);
  });
  return out;
}

const SCENARIOS: Readonly<Record<string, Connect1cScenario>> = {
  'answered-call': { description: 'a call on the support line: started, accepted, finished, recording ready, rated 5 with a comment', frames: answeredCall },
  'missed-call': { description: 'a call on the support line nobody answered (CallResult NobodyToAnswer)', frames: missedCall },
  'chat-messages': { description: 'messages with a line client, a colleague, a personal contact and a group chat, both directions, emoji and escaped characters', frames: chatMessages },
  'remote-session': { description: 'a remote-access session with uploaded and downloaded files', frames: remoteSession },
  treatment: { description: 'a support-line treatment: started, appointed, finished, rated, commented', frames: treatment },
  'agent-status': { description: "a colleague's online status churning through every value", frames: agentStatus },
  'other-objects': { description: 'a softphone call, a PersonalInfo update and a group-chat call', frames: otherObjects },
  'bad-frames': { description: 'every kind of bad frame (odd length, short length, bad header, lone surrogate, malformed XML, DTD, entity bomb, unexpected root), each followed by a good event', frames: withBadFrames },
};

/**
 * Builds a scenario so that its last event is stamped `now` and the others before it, as the
 * application reporting what just happened: a simulator never sends times from the future.
 */
function endingNow(frames: Connect1cScenario['frames']): Connect1cScenario['frames'] {
  return (opts) => {
    const first = frames(opts);
    // Local stamps read as if UTC: their differences are real durations (daylight saving aside).
    const asUtc = (local: string) => Date.parse(`${local}Z`);
    const now = asUtc(localTime(opts.now, opts.timeZone));
    let last = now;
    for (const f of first) if (typeof f === 'string') for (const m of f.matchAll(/\bTime="([^"]+)"/g)) last = Math.max(last, asUtc(m[1] ?? ''));
    return last === now ? first : frames({ ...opts, now: opts.now - (last - now) });
  };
}

export const CONNECT1C_SCENARIOS: Readonly<Record<string, Connect1cScenario>> = Object.fromEntries(
  Object.entries(SCENARIOS).map(([name, s]) => [name, { ...s, frames: endingNow(s.frames) }]),
);

export const CONNECT1C_SCENARIO_NAMES: readonly string[] = Object.keys(CONNECT1C_SCENARIOS);

/** The XML events of a scenario (bad frames left out). */
export function scenarioEvents(name: string, opts: Connect1cScenarioOptions): string[] {
  const s = CONNECT1C_SCENARIOS[name];
  if (!s) throw new Error(`no 1С-Коннект scenario "${name}"; known: ${CONNECT1C_SCENARIO_NAMES.join(', ')}`);
  return s.frames(opts).filter((f): f is string => typeof f === 'string');
}

/** Every good event of every scenario, in scenario order: a realistic recorded stream of all objects. */
export function allScenarioEvents(opts: Connect1cScenarioOptions): string[] {
  return CONNECT1C_SCENARIO_NAMES.flatMap((n) => scenarioEvents(n, opts));
}
