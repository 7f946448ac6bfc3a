import { describe, it, expect } from 'vitest';
import * as z from 'zod/mini';
import { comparable, loadFixtures, payloadReader } from '../../../test/helpers/fixtures.js';
import { normalizerConformance, normalizerProbes } from '../../../test/normalizer-conformance.js';
import { ConfigError, ValidationError, type EventType, type NormalizeContext, type SwitchboardEvent } from '../../core/index.js';
import { localToUtc, normalizeConnect1c, isTimeZone, DEFAULT_TIME_ZONE } from './normalize.js';
import { CONNECT1C_OBJECTS } from './settings.js';
import { MAX_XML_CHARS } from './xml.js';

/** The fixtures' context; the shared runner passes no settings, which must give the same result. */
const ctx: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z', settings: { timeZone: 'Europe/Moscow' } };
const bare: NormalizeContext = { connectorId: 'fixture', receivedAt: '2026-01-01T00:00:00.000Z' };

const fixtures = loadFixtures(new URL('./fixtures/', import.meta.url), z.string());
const payloadOf = payloadReader<string>(fixtures);
const { one: only, invalid } = normalizerProbes(normalizeConnect1c, ctx);

function run(xml: string, c: NormalizeContext = ctx): SwitchboardEvent[] {
  return normalizeConnect1c(xml, c);
}

function data(e: SwitchboardEvent): Record<string, unknown> {
  return e.data as Record<string, unknown>;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

function failure(payload: unknown, code: 'SB_ERR_INGEST_MALFORMED' | 'SB_ERR_INGEST_INVALID_PAYLOAD'): string {
  return invalid(payload, code).message;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Builds an `<Event>`; `attrs` are its attributes in order, `children` its child elements (values escaped). */
function xmlEvent(attrs: Record<string, string>, children: Record<string, string> = {}, raw = ''): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const c = Object.entries(children)
    .map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`)
    .join('');
  return `<Event${a}>${c}${raw}</Event>`;
}

/** The seed's example event («Событие об окончании исходящего звонка в чате по ЛП»), copied verbatim. */
const SEED_EXAMPLE = `<Event ID="d5d05738-1944-11e3-56b5-7054d21ab6ff" Time="2019-01-31T12:47:28" Mode="ServicesClients" Object="Call" Initiator="Incoming">
<ClientID>6dd05738-1464-11e3-93b5-7054d21ab6ff</ClientID>
<CounterpartID>6dd05738-1464-11e3-93b5-7054d21ab6ff</CounterpartID>
<UserID>227e9d68-01d8-4006-ad42-d034dcb67818</UserID>
<ServiceID>114c7433-4c28-11e7-80e5-0025904f970f</ServiceID>
<CallID>cc7cafb6-2e3c-f5d2-502c-f19ee322e58c</CallID>
<CallFrom>7215fb1e-89b9-4252-befa-45e20cf9bc5b</CallFrom>
<CallTo>227e9d68-01d8-4006-ad42-d034dcb67818</CallTo>
<State>Finished</State>
<StartTime>2019-01-31T17:46:53</StartTime>
<AcceptTime>2019-01-31T17:46:53</AcceptTime>
<EndTime>2019-01-31T17:47:30</EndTime>
<Duration>37</Duration>
<BillSec>37</BillSec>
<CallResult>Success</CallResult>
</Event>`;

const SVC = '114c7433-4c28-11e7-80e5-0025904f970f';
const USER = '227e9d68-01d8-4006-ad42-d034dcb67818';
const SPEC = '7215fb1e-89b9-4252-befa-45e20cf9bc5b';
const COLLEAGUE = '5b0c1e2a-7f3d-4c11-9a6e-2d8f4b7c9e01';
const SERVICE_CHAT = `${SVC}:${USER}`;

function head(object: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ID: 'e0000000-0000-4000-8000-000000000001', Time: '2025-03-14T12:00:00', Mode: 'ServicesClients', Object: object, Initiator: 'Incoming', ...extra };
}

const serviceChat = { UserID: USER, ServiceID: SVC };

/** Children that make each Object × State mappable (everything the seed lists for it). */
function childrenFor(object: string, state?: string): Record<string, string> {
  const withState = (c: Record<string, string>) => (state === undefined ? c : { ...c, State: state });
  switch (object) {
    case 'Call':
      return withState({
        ...serviceChat,
        CallID: 'c0000000-0000-4000-8000-000000000001',
        CallFrom: USER,
        CallTo: SPEC,
        StartTime: '2025-03-14T11:59:50',
        AcceptTime: '2025-03-14T11:59:55',
        EndTime: '2025-03-14T12:00:00',
        Duration: '10',
        BillSec: '5',
        CallResult: 'Success',
        CallRecordLink: 'https://records.example/1.mp3',
        Assessment: '5',
        Comments: 'ok',
      });
    case 'Message':
      return withState({ ...serviceChat, MessageID: 'm1', AuthorID: USER, MessageBody: 'Привет', Sended: '2025-03-14T12:00:00' });
    case 'PersonalInfo':
      return withState({ ...serviceChat, Name: 'Иван', Surname: 'Иванов' });
    case 'AgentOnlineStatus':
      return withState({ ColleagueID: COLLEAGUE, Status: 'Online' });
    case 'RemoteAccessSession':
      return withState({ ...serviceChat, SessionID: 's1', AuthorID: SPEC, StartTime: '2025-03-14T11:00:00', EndTime: '2025-03-14T12:00:00', Duration: '3600' });
    case 'FileTransfer':
      return withState({ ...serviceChat, FileTransferID: 'f1', FileName: 'a.txt', FileSize: '10', TransferDuration: '1' });
    case 'Treatment':
      return withState({ ...serviceChat, TreatmentID: 't1', AppointedSpecialistID: SPEC, WaitTime: '30', TreatmentDuration: '600', Assessment: '4', Comments: 'спасибо' });
    case 'ServiceRequest':
      return withState({ ...serviceChat, ServiceRequestID: 'r1' });
    default:
      return withState({ ...serviceChat });
  }
}

// ─── the seed's tables, written out ───────────────────────────────────────────────────────────

/** Seed "Возможные значения тега CallResult" → outcome / reason. */
const SEED_CALL_RESULTS: ReadonlyArray<readonly [string, string, string]> = [
  ['Success', 'answered', 'answered'],
  ['NobodyToAnswer', 'missed', 'no-operator'],
  ['RingingTimeout', 'missed', 'timeout'],
  ['RejectedByCallee', 'rejected', 'callee-rejected'],
  ['RejectedByCaller', 'missed', 'caller-hung-up'],
  ['PBXunreachableForMe', 'failed', 'pbx-unreachable'],
  ['PBXunreachableForTarget', 'failed', 'pbx-unreachable-for-target'],
  ['TargetHaveNoSoundDevices', 'failed', 'no-sound-device-target'],
  ['IHaveNoSoundDevices', 'failed', 'no-sound-device'],
];

/** Seed "Возможные значения тега Status" → operator status. */
const SEED_STATUSES: ReadonlyArray<readonly [string, string]> = [
  ['Offline', 'offline'],
  ['Connecting', 'connecting'],
  ['Online', 'online'],
  ['Away', 'away'],
  ['Talking', 'busy'],
  ['DoNotDisturb', 'dnd'],
  ['RedirectToExternalPhone', 'redirected'],
  ['BusyForNewRequests', 'busy-for-new-requests'],
];

/** Seed "Возможные места возникновения события" → the conversation key of a Message there. */
const SEED_MODES: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
  ['ServicesClients', { ClientID: 'org-1', UserID: USER, ServiceID: SVC }, SERVICE_CHAT],
  ['Colleagues', { ColleagueID: COLLEAGUE }, COLLEAGUE],
  ['PersonalContacts', { PersonalContactID: 'pc-1', MeetingState: 'Accepted' }, 'pc-1'],
  ['Softphone', { CallTo: '+74951234567' }, '+74951234567'],
  ['GroupChats', { GroupChatRoomID: 'room-1', MemberID: 'member-1' }, 'room-1'],
];

/**
 * Every native code: the seed's objects («Возможные объекты события») with the States each has
 * (an online status is `AgentOnlineStatus/<Status>`), then the codes docs/events.md maps besides;
 * with the types each becomes.
 */
const CODES = {
  PersonalInfo: ['contact.updated', 'operator.status-changed'], // with a <Status>, the status too
  ...Object.fromEntries(SEED_STATUSES.map(([status]) => [`AgentOnlineStatus/${status}`, 'operator.status-changed'])),
  Message: 'message.created',
  'Call/Started': 'call.ringing',
  'Call/CallAccepted': 'call.answered',
  'Call/Finished': 'call.ended',
  'Call/MP3RecordReady': 'call.recording-ready',
  'Call/SoundQualityAssessment': 'call.rated',
  'RemoteAccessSession/Started': 'remote-session.started',
  'RemoteAccessSession/Finished': 'remote-session.ended',
  FileTransfer: 'file.transferred',
  'FileTransfer/Finished': 'file.transferred',
  'Treatment/Appointed': 'conversation.assigned',
  'Treatment/Finished': 'conversation.closed',
  'Treatment/ServiceQualityAssessment': 'conversation.rated',
  'Treatment/Comments': ['conversation.rated', 'ticket.changed'], // without an <Assessment>, a ticket change
  ServiceRequest: 'ticket.changed',
  'ServiceRequest/Created': 'ticket.changed',
  // docs/events.md besides the seed
  'AgentOnlineStatus/AtLunchBreak': 'operator.status-changed',
  'Treatment/Started': 'conversation.queued',
  'ServiceRequest/InProgress': 'ticket.changed',
} satisfies Record<string, EventType | readonly EventType[]>;

/** The least `<Event>` of a code: `Object[/State]`, or `AgentOnlineStatus/<Status>`. */
function minimal(code: string): string {
  const [object = '', state] = code.split('/');
  if (object === 'AgentOnlineStatus') return xmlEvent(head(object), { ...childrenFor(object), Status: state ?? '' });
  return xmlEvent(head(object), childrenFor(object, state));
}

normalizerConformance({
  platform: 'connect1c',
  normalize: normalizeConnect1c,
  module: new URL('./normalize.ts', import.meta.url),
  fixtures: new URL('./fixtures/', import.meta.url),
  context: ctx,
  codes: CODES,
  payload: minimal,
  noFixture: ['FileTransfer', 'ServiceRequest', 'ServiceRequest/Created'],
  advertised: CONNECT1C_OBJECTS,
});

// ─── fixtures and the seed's tables ───────────────────────────────────────────────────────────

describe('1С-Коннект fixtures', () => {
  it('give the same events without settings: Europe/Moscow is the default zone', () => {
    for (const f of fixtures) expect(run(f.payload, bare).map(comparable), f.file).toEqual(f.expected);
  });

  it('keep the seed example verbatim as the Call/Finished fixture', () => {
    expect(payloadOf('Call-Finished-Success')).toBe(SEED_EXAMPLE);
  });

  it('all map but the unmapped-* ones, which give only native.unmapped', () => {
    for (const f of fixtures) {
      const types = new Set(run(f.payload).map((e) => e.type));
      if (f.file.startsWith('unmapped-')) expect([...types], f.file).toEqual(['native.unmapped']);
      else expect(types.has('native.unmapped'), f.file).toBe(false);
    }
  });

  it('include every seed CallResult, Status and Mode', () => {
    const payloads = fixtures.map((f) => f.payload);
    for (const [result] of SEED_CALL_RESULTS) expect(payloads.some((p) => p.includes(`<CallResult>${result}</CallResult>`)), result).toBe(true);
    for (const [status] of SEED_STATUSES) expect(payloads.some((p) => p.includes(`<Status>${status}</Status>`)), status).toBe(true);
    for (const [mode] of SEED_MODES) expect(payloads.some((p) => p.includes(`Mode="${mode}"`)), mode).toBe(true);
  });
});

describe('1С-Коннект seed values', () => {
  for (const [result, outcome, reason] of SEED_CALL_RESULTS) {
    it(`seed CallResult ${result} → ${outcome} / ${reason}`, () => {
      const children = { ...childrenFor('Call', 'Finished'), CallResult: result };
      // The plain meaning of RejectedByCaller: hung up before an answer.
      if (result === 'RejectedByCaller') delete (children as Record<string, string | undefined>).AcceptTime;
      const e = only(xmlEvent(head('Call'), children));
      expect(e.type).toBe('call.ended');
      expect(data(e)).toMatchObject({ outcome, reason });
    });
  }

  for (const [status, mapped] of SEED_STATUSES) {
    it(`seed Status ${status} → ${mapped}`, () => {
      const e = only(xmlEvent(head('AgentOnlineStatus', { Mode: 'Colleagues' }), { ColleagueID: COLLEAGUE, Status: status }));
      expect(e.type).toBe('operator.status-changed');
      expect(e.nativetype).toBe(`AgentOnlineStatus/${status}`);
      expect(e.subject).toBe(`operator/${COLLEAGUE}`);
      expect(data(e)).toMatchObject({ operatorId: COLLEAGUE, status: mapped, nativeStatus: status });
    });
  }

  for (const [mode, children, key] of SEED_MODES) {
    it(`seed Mode ${mode}: a message is on conversation/${key}`, () => {
      const e = only(xmlEvent(head('Message', { Mode: mode }), { ...children, MessageID: 'm1', AuthorID: 'a1', MessageBody: 'hi' }));
      expect(e.type).toBe('message.created');
      expect(e.subject).toBe(`conversation/${key}`);
      expect(data(e).conversationId).toBe(key);
    });

    it(`seed Mode ${mode}: a call links to conversation ${key}`, () => {
      const e = only(xmlEvent(head('Call', { Mode: mode }), { CallTo: 'x', ...children, CallID: 'c1', State: 'Started' }));
      expect(e.type).toBe('call.ringing');
      expect(data(e).conversationId).toBe(key);
    });
  }
});

// ─── mapping details ──────────────────────────────────────────────────────────────────────────

describe('1С-Коннект direction', () => {
  it('maps Initiator Incoming to inbound and Self to outbound, for calls and messages', () => {
    for (const [initiator, direction] of [
      ['Incoming', 'inbound'],
      ['Self', 'outbound'],
    ] as const) {
      expect(data(only(xmlEvent(head('Call', { Initiator: initiator }), childrenFor('Call', 'Started')))).direction).toBe(direction);
      expect(data(only(xmlEvent(head('Message', { Initiator: initiator }), childrenFor('Message')))).direction).toBe(direction);
    }
  });

  it('leaves a call without a known Initiator undirected, and keeps such a message as native.unmapped', () => {
    const { Initiator: _i, ...noInitiator } = head('Call');
    expect(data(only(xmlEvent(noInitiator, childrenFor('Call', 'Started'))))).not.toHaveProperty('direction');
    const msg = only(xmlEvent(head('Message', { Initiator: 'Somebody' }), childrenFor('Message')));
    expect(msg.type).toBe('native.unmapped');
    expect(data(msg).reason).toMatch(/Initiator "Somebody": expected Incoming or Self/);
  });
});

describe('1С-Коннект calls', () => {
  it('treats RejectedByCaller after an answer (AcceptTime and BillSec > 0) as answered', () => {
    const e = only(xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), CallResult: 'RejectedByCaller', BillSec: '12' }));
    expect(data(e)).toMatchObject({ outcome: 'answered', reason: 'caller-hung-up', talkSec: 12, answeredAt: '2025-03-14T08:59:55.000Z' });
  });

  it('keeps RejectedByCaller with an AcceptTime but no talk time as missed, without answeredAt', () => {
    const e = only(xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), CallResult: 'RejectedByCaller', BillSec: '0' }));
    expect(data(e)).toMatchObject({ outcome: 'missed', reason: 'caller-hung-up', talkSec: 0 });
    expect(data(e)).not.toHaveProperty('answeredAt');
  });

  it('never throws on an unknown or missing CallResult: failed / unknown', () => {
    for (const CallResult of ['SomethingNew', 'toString', '__proto__', '']) {
      expect(data(only(xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), CallResult })))).toMatchObject({ outcome: 'failed', reason: 'unknown' });
    }
    const { CallResult: _r, ...noResult } = childrenFor('Call', 'Finished');
    expect(data(only(xmlEvent(head('Call'), noResult)))).toMatchObject({ outcome: 'failed', reason: 'unknown' });
  });

  it('reads the call durations and times', () => {
    const e = only(xmlEvent(head('Call'), childrenFor('Call', 'Finished')));
    expect(e.time).toBe('2025-03-14T09:00:00.000Z');
    expect(data(e)).toMatchObject({
      durationSec: 10,
      talkSec: 5,
      startedAt: '2025-03-14T08:59:50.000Z',
      answeredAt: '2025-03-14T08:59:55.000Z',
      endedAt: '2025-03-14T09:00:00.000Z',
    });
  });

  it('takes all the text of a rating comment that holds markup', () => {
    const children = childrenFor('Call', 'SoundQualityAssessment');
    delete (children as Record<string, string | undefined>).Comments;
    const e = only(xmlEvent(head('Call'), children, '<Comments>Связь <b>прерывалась</b></Comments>'));
    expect(data(e)).toMatchObject({ rating: 5, scale: 5, comment: 'Связь прерывалась' });
  });

  it('gives the states of one call (same Event ID) distinct ids on the same subject', () => {
    const events = ['Call-Started', 'Call-CallAccepted', 'Call-MP3RecordReady', 'Call-SoundQualityAssessment'].flatMap((f) => run(payloadOf(f)));
    expect(new Set(events.map((e) => e.subject)).size).toBe(1);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('keeps a call it cannot key, or a state without what it reports, as native.unmapped', () => {
    const noId = childrenFor('Call', 'Started');
    delete (noId as Record<string, string | undefined>).CallID;
    expect(data(only(xmlEvent(head('Call'), noId))).reason).toBe('Call/Started without <CallID>');
    const noLink = { ...childrenFor('Call', 'MP3RecordReady'), CallRecordLink: '' };
    expect(data(only(xmlEvent(head('Call'), noLink))).reason).toBe('Call/MP3RecordReady without <CallRecordLink>');
    const noRating = { ...childrenFor('Call', 'SoundQualityAssessment'), Assessment: '' };
    expect(data(only(xmlEvent(head('Call'), noRating))).reason).toBe('Call/SoundQualityAssessment without <Assessment>');
  });
});

describe('1С-Коннект other objects', () => {
  it('uses the Event ID as messageId when a Message has no MessageID', () => {
    const { MessageID: _m, ...children } = childrenFor('Message');
    expect(data(only(xmlEvent(head('Message'), children))).messageId).toBe('e0000000-0000-4000-8000-000000000001');
  });

  it('decodes the predefined entities in a message body', () => {
    const e = only(xmlEvent(head('Message'), childrenFor('Message'), '').replace('Привет', 'a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;'));
    expect(data(e).text).toBe('a & b <c> "d" \'e\'');
  });

  it('decodes numeric character references in a message body', () => {
    const xml = xmlEvent(head('Message'), { ...serviceChat, MessageID: 'm-1', AuthorID: USER }, '<MessageBody>&#1046;&#x416; &amp; &lt;ok&gt;</MessageBody>');
    expect(only(xml).data).toMatchObject({ text: 'ЖЖ & <ok>' });
  });

  it('keys the account\'s own status as operator/self and names another\'s by its id', () => {
    const self = only(xmlEvent(head('AgentOnlineStatus', { Initiator: 'Self' }), { Status: 'Away' }));
    expect(self.subject).toBe('operator/self');
    const noOwner = only(xmlEvent(head('AgentOnlineStatus'), { Status: 'Away' }));
    expect(noOwner.type).toBe('native.unmapped');
    expect(only(xmlEvent(head('AgentOnlineStatus'), { ColleagueID: COLLEAGUE })).type).toBe('native.unmapped');
  });

  it('passes an unknown online status through in kebab-case', () => {
    const e = only(xmlEvent(head('AgentOnlineStatus', { Mode: 'Colleagues' }), { ColleagueID: COLLEAGUE, Status: 'PBXOffline' }));
    expect(data(e)).toMatchObject({ status: 'pbx-offline', nativeStatus: 'PBXOffline' });
  });

  it('keys personal data by the Mode: client, operator or contact', () => {
    expect(only(xmlEvent(head('PersonalInfo'), childrenFor('PersonalInfo'))).subject).toBe(`client/${USER}`);
    expect(only(xmlEvent(head('PersonalInfo', { Mode: 'Colleagues' }), { ColleagueID: COLLEAGUE, Name: 'A' })).subject).toBe(`operator/${COLLEAGUE}`);
    expect(only(xmlEvent(head('PersonalInfo', { Mode: 'PersonalContacts' }), { PersonalContactID: 'pc', Name: 'A' })).subject).toBe('contact/pc');
    expect(only(xmlEvent(head('PersonalInfo', { Mode: 'Nowhere' }), { Name: 'A' })).type).toBe('native.unmapped');
  });

  it('maps an initial Treatment state to conversation.queued and a comment without rating to ticket.changed', () => {
    for (const State of ['Started', 'Created']) expect(only(xmlEvent(head('Treatment'), { ...serviceChat, TreatmentID: 't1', State })).type).toBe('conversation.queued');
    const e = only(xmlEvent(head('Treatment'), { ...serviceChat, TreatmentID: 't1', State: 'Comments', Comments: 'позже' }));
    expect(e.type).toBe('ticket.changed');
    expect(e.subject).toBe('ticket/t1');
    expect(data(e)).toMatchObject({ ticketId: 't1', state: 'Comments', conversationId: SERVICE_CHAT });
  });

  it('keeps a Treatment outside a service-line chat as native.unmapped', () => {
    const e = only(xmlEvent(head('Treatment'), { UserID: USER, TreatmentID: 't1', State: 'Appointed' }));
    expect(e.type).toBe('native.unmapped');
    expect(data(e).reason).toBe('Treatment/Appointed in Mode "ServicesClients" without <ServiceID> and <UserID> (the chat key)');
  });

  it('reads the files of a remote-access session, with numbers and UTC times', () => {
    const e = only(payloadOf('RemoteAccessSession-Finished'));
    expect(data(e).uploadedFiles).toHaveLength(2);
    expect((data(e).downloadedFiles as unknown[])[0]).toEqual({
      name: 'bank_update.epf',
      sourceDir: 'D:\\Support\\Tools',
      destinDir: 'C:\\Users\\buh\\Desktop',
      size: 184320,
      startedAt: '2025-03-14T06:35:44.000Z',
      durationSec: 2,
    });
    const empty = only(xmlEvent(head('RemoteAccessSession'), { SessionID: 's', State: 'Finished' }, '<UploadedFiles><File Name="" SourceDir="" DestinDir="" Size="" StartTime="" Duration=""/></UploadedFiles>'));
    expect(data(empty)).toMatchObject({ uploadedFiles: [{}], downloadedFiles: [] });
  });

  it('finds the ticket id of a ServiceRequest among the id elements', () => {
    expect(only(xmlEvent(head('ServiceRequest'), { TreatmentID: 't9', State: 'Closed' })).subject).toBe('ticket/t9');
    expect(only(xmlEvent(head('ServiceRequest'), { State: 'Closed' })).type).toBe('native.unmapped');
  });
});

describe('1С-Коннект unknown input', () => {
  it('keeps an unknown Object, an unknown State or a missing State as native.unmapped', () => {
    const cases: ReadonlyArray<readonly [string, Record<string, string>, string, string]> = [
      ['Whiteboard', { State: 'Started' }, 'Whiteboard/Started', 'no mapping for Object "Whiteboard"'],
      ['Call', { CallID: 'c', State: 'OnHold' }, 'Call/OnHold', 'no mapping for Call State "OnHold"'],
      ['Call', { CallID: 'c' }, 'Call', 'Call without a <State>'],
      ['Message', { ...childrenFor('Message'), State: 'Edited' }, 'Message/Edited', 'no mapping for Message State "Edited"'],
      ['Treatment', { ...serviceChat, State: 'Escalated' }, 'Treatment/Escalated', 'no mapping for Treatment State "Escalated"'],
    ];
    for (const [object, children, nativetype, reason] of cases) {
      const e = only(xmlEvent(head(object), children));
      expect(e.type).toBe('native.unmapped');
      expect(e.nativetype).toBe(nativetype);
      expect(e.subject).toBe(`native/${nativetype}`);
      expect(e.time).toBe('2025-03-14T09:00:00.000Z');
      expect(data(e).reason).toBe(reason);
    }
  });

  it('keeps an Event without an Object attribute as native.unmapped', () => {
    const { Object: _o, ...attrs } = head('x');
    const e = only(xmlEvent(attrs, { State: 'Started' }));
    expect([e.type, e.nativetype, data(e).reason]).toEqual(['native.unmapped', 'Event/Started', '<Event> without an Object attribute']);
  });

  it('maps Object and State names that are also object properties to native.unmapped', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(only(xmlEvent(head(name), { State: 'Started' })).type).toBe('native.unmapped');
      expect(only(xmlEvent(head('Call'), { CallID: 'c', State: name })).type).toBe('native.unmapped');
      expect(only(xmlEvent(head('AgentOnlineStatus', { Mode: 'Colleagues' }), { ColleagueID: 'c', Status: name })).type).toBe('operator.status-changed');
    }
  });

  it('uses the receipt time when the Event has no Time', () => {
    const { Time: _t, ...attrs } = head('Message');
    expect(only(xmlEvent(attrs, childrenFor('Message')), { ...ctx, receivedAt: '2026-05-06T07:08:09.000Z' }).time).toBe('2026-05-06T07:08:09.000Z');
  });
});

describe('1С-Коннект identity', () => {
  it('keys on Event@ID and State only', () => {
    const a = only(xmlEvent(head('Call'), childrenFor('Call', 'Finished')));
    const sameIdOtherContent = only(xmlEvent(head('Call', { Time: '2025-03-14T12:00:05' }), { ...childrenFor('Call', 'Finished'), Duration: '11' }));
    expect(sameIdOtherContent.id).toBe(a.id);
    const otherState = only(xmlEvent(head('Call'), childrenFor('Call', 'CallAccepted')));
    expect(otherState.id).not.toBe(a.id);
    const otherId = only(xmlEvent(head('Call', { ID: 'e0000000-0000-4000-8000-000000000002' }), childrenFor('Call', 'Finished')));
    expect(otherId.id).not.toBe(a.id);
  });
});

// ─── times ────────────────────────────────────────────────────────────────────────────────────

describe('localToUtc', () => {
  it('reads Moscow time as UTC+3 (and UTC+4 in 2011–2014)', () => {
    expect(localToUtc('2019-01-31T12:47:28', 'Europe/Moscow')).toBe('2019-01-31T09:47:28.000Z');
    expect(localToUtc('2019-07-31T12:47:28', 'Europe/Moscow')).toBe('2019-07-31T09:47:28.000Z');
    expect(localToUtc('2013-06-01T12:00:00', 'Europe/Moscow')).toBe('2013-06-01T08:00:00.000Z');
    expect(DEFAULT_TIME_ZONE).toBe('Europe/Moscow');
  });

  it('follows daylight saving time (Europe/Berlin)', () => {
    expect(localToUtc('2024-01-15T12:00:00', 'Europe/Berlin')).toBe('2024-01-15T11:00:00.000Z'); // winter, +1
    expect(localToUtc('2024-07-15T12:00:00', 'Europe/Berlin')).toBe('2024-07-15T10:00:00.000Z'); // summer, +2
    expect(localToUtc('2024-03-31T01:59:59', 'Europe/Berlin')).toBe('2024-03-31T00:59:59.000Z'); // just before the change
    expect(localToUtc('2024-03-31T03:00:00', 'Europe/Berlin')).toBe('2024-03-31T01:00:00.000Z'); // just after
    expect(localToUtc('2024-10-27T01:59:59', 'Europe/Berlin')).toBe('2024-10-26T23:59:59.000Z');
    expect(localToUtc('2024-10-27T03:00:00', 'Europe/Berlin')).toBe('2024-10-27T02:00:00.000Z');
  });

  it('moves a wall time in the spring gap forward, and takes the earlier of an autumn repeat', () => {
    expect(localToUtc('2024-03-31T02:30:00', 'Europe/Berlin')).toBe('2024-03-31T01:30:00.000Z'); // = 03:30 CEST
    expect(localToUtc('2024-10-27T02:30:00', 'Europe/Berlin')).toBe('2024-10-27T00:30:00.000Z'); // the first 02:30 (CEST)
    expect(localToUtc('2024-11-03T01:30:00', 'America/New_York')).toBe('2024-11-03T05:30:00.000Z');
    expect(localToUtc('2024-03-10T02:30:00', 'America/New_York')).toBe('2024-03-10T07:30:00.000Z');
  });

  it('handles zones east and west, fractions, a space separator and missing seconds', () => {
    expect(localToUtc('2025-01-01T00:00:00', 'Asia/Vladivostok')).toBe('2024-12-31T14:00:00.000Z');
    expect(localToUtc('2025-01-01T00:00:00', 'Asia/Kolkata')).toBe('2024-12-31T18:30:00.000Z');
    expect(localToUtc('2025-01-01T00:00:00', 'UTC')).toBe('2025-01-01T00:00:00.000Z');
    expect(localToUtc('2025-01-01T12:00:00.250', 'Europe/Moscow')).toBe('2025-01-01T09:00:00.250Z');
    expect(localToUtc('2025-01-01 12:00', 'Europe/Moscow')).toBe('2025-01-01T09:00:00.000Z');
    expect(localToUtc(' 2025-01-01T12:00:00 ', 'Europe/Moscow')).toBe('2025-01-01T09:00:00.000Z');
  });

  it('takes a time that names its offset as it is', () => {
    expect(localToUtc('2025-01-01T12:00:00Z', 'Europe/Moscow')).toBe('2025-01-01T12:00:00.000Z');
    expect(localToUtc('2025-01-01T12:00:00+05:00', 'Europe/Moscow')).toBe('2025-01-01T07:00:00.000Z');
  });

  it('rejects an unreadable or impossible time, naming the field', () => {
    for (const bad of ['', 'yesterday', '31.01.2019 12:47:28', '2019-01-31', '2019-02-30T10:00:00', '2019-13-01T10:00:00', '2019-01-31T24:00:00', '2019-01-31T12:60:00', '0019-01-31T12:00:00']) {
      const err = thrown(() => localToUtc(bad, 'Europe/Moscow', '<StartTime>'));
      expect(err, bad).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).code).toBe('SB_ERR_INGEST_INVALID_PAYLOAD');
      expect((err as ValidationError).message).toMatch(/^<StartTime>: /);
    }
  });

  it('refuses an unknown time zone as a configuration error', () => {
    const err = thrown(() => localToUtc('2025-01-01T00:00:00', 'Mars/Olympus_Mons'));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/settings\.timeZone: expected an IANA time zone/);
    expect(isTimeZone('Europe/Moscow')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('is used for every time of an event, in the zone of settings.timeZone', () => {
    const berlin = { ...ctx, settings: { timeZone: 'Europe/Berlin' } };
    const e = only(xmlEvent(head('Call', { Time: '2025-07-01T12:00:00' }), { ...childrenFor('Call', 'Started'), StartTime: '2025-07-01T11:59:00' }), berlin);
    expect(e.time).toBe('2025-07-01T10:00:00.000Z');
    expect(data(e).startedAt).toBe('2025-07-01T09:59:00.000Z');
    expect(thrown(() => run(payloadOf('Call-Started'), { ...ctx, settings: { timeZone: 3 } }))).toBeInstanceOf(ConfigError);
  });
});

// ─── refused input ────────────────────────────────────────────────────────────────────────────

describe('1С-Коннект malformed XML', () => {
  it('refuses XML that is not well-formed, with line and column', () => {
    expect(failure('<Event ID="1" Object="Call"><State>Started</Event>', 'SB_ERR_INGEST_MALFORMED')).toMatch(/^malformed XML at line 1, column \d+: /);
    expect(failure('<Event ID="1">\n<State>Started</State>\n<Event>', 'SB_ERR_INGEST_MALFORMED')).toMatch(/^malformed XML at line \d+, column \d+/);
    expect(failure('not xml at all', 'SB_ERR_INGEST_MALFORMED')).toMatch(/XML/);
    expect(failure('<Event ID="1"/><Event ID="2"/>', 'SB_ERR_INGEST_MALFORMED')).toMatch(/2 root elements; expected one|malformed XML/);
  });

  it('refuses a DTD and entity declarations (no entity bombs, no external entities)', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Event ID="1" Object="Message"><MessageBody>&lol3;</MessageBody></Event>`;
    expect(failure(bomb, 'SB_ERR_INGEST_MALFORMED')).toBe('XML with a DTD (<!DOCTYPE) is refused');
    const external = '<!DOCTYPE Event [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Event ID="1" Object="Message"><MessageBody>&xxe;</MessageBody></Event>';
    expect(failure(external, 'SB_ERR_INGEST_MALFORMED')).toMatch(/DTD/);
    expect(failure('<Event ID="1"><!ENTITY x "y"></Event>', 'SB_ERR_INGEST_MALFORMED')).toBe('XML with an entity declaration (<!ENTITY) is refused');
  });

  it('refuses a document over the size limit', () => {
    const big = xmlEvent(head('Message'), { ...childrenFor('Message'), MessageBody: 'x'.repeat(MAX_XML_CHARS) });
    expect(failure(big, 'SB_ERR_INGEST_MALFORMED')).toMatch(new RegExp(`^XML of ${big.length} characters is over the limit of ${MAX_XML_CHARS}$`));
  });
});

describe('1С-Коннект invalid payloads', () => {
  it('refuses what is not a string', () => {
    for (const p of [null, undefined, 42, {}, ['<Event ID="1"/>']]) expect(failure(p, 'SB_ERR_INGEST_INVALID_PAYLOAD')).toMatch(/^connect1c: expected an XML string holding one <Event>, found /);
  });

  it('refuses a root other than <Event>', () => {
    expect(failure('<CommandResult Action="EventSubscribe" ID="1"><Result>OK</Result></CommandResult>', 'SB_ERR_INGEST_INVALID_PAYLOAD')).toBe(
      'connect1c: expected an <Event> root element, found <CommandResult> (a command result: the connector answers it, it is not an event)',
    );
    expect(failure('<Events><Event ID="1"/></Events>', 'SB_ERR_INGEST_INVALID_PAYLOAD')).toBe('connect1c: expected an <Event> root element, found <Events>');
    expect(failure('<event ID="1" Object="Call"/>', 'SB_ERR_INGEST_INVALID_PAYLOAD')).toMatch(/found <event>/);
  });

  it('refuses an Event without an ID', () => {
    const { ID: _id, ...attrs } = head('Call');
    expect(failure(xmlEvent(attrs, childrenFor('Call', 'Started')), 'SB_ERR_INGEST_INVALID_PAYLOAD')).toBe('connect1c: <Event> without an ID attribute (the event identity)');
    expect(failure(xmlEvent({ ...head('Call'), ID: '  ' }, childrenFor('Call', 'Started')), 'SB_ERR_INGEST_INVALID_PAYLOAD')).toMatch(/without an ID attribute/);
  });

  it('refuses an unreadable time or number, naming the element', () => {
    const cases: ReadonlyArray<readonly [string, RegExp]> = [
      [xmlEvent(head('Call', { Time: '31.01.2019 12:47' }), childrenFor('Call', 'Started')), /^connect1c Call\/Started: Event@Time: expected a local time like "2019-01-31T12:47:28", found string "31\.01\.2019 12:47"$/],
      [xmlEvent(head('Call'), { ...childrenFor('Call', 'Started'), StartTime: 'soon' }), /^connect1c Call\/Started: <StartTime>: expected a local time/],
      [xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), EndTime: '2019-02-30T10:00:00' }), /^connect1c Call\/Finished: <EndTime>: string "2019-02-30T10:00:00" is not a valid date and time$/],
      [xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), Duration: '37s' }), /^connect1c Call\/Finished: <Duration>: expected a non-negative number, found string "37s"$/],
      [xmlEvent(head('Call'), { ...childrenFor('Call', 'Finished'), BillSec: '-1' }), /^connect1c Call\/Finished: <BillSec>: expected a non-negative number/],
      [xmlEvent(head('Call'), { ...childrenFor('Call', 'SoundQualityAssessment'), Assessment: '7' }), /^connect1c Call\/SoundQualityAssessment: <Assessment>: expected a rating 1\.\.5, found string "7"$/],
      [xmlEvent(head('Treatment'), { ...childrenFor('Treatment', 'Appointed'), WaitTime: 'long' }), /^connect1c Treatment\/Appointed: <WaitTime>: expected a non-negative number/],
      [xmlEvent(head('Message'), { ...childrenFor('Message'), Sended: 'now' }), /^connect1c Message: <Sended>: expected a local time/],
      [xmlEvent(head('RemoteAccessSession'), { SessionID: 's', State: 'Finished' }, '<UploadedFiles><File Name="a" Size="1" /><File Name="b" Size="big"/></UploadedFiles>'), /^connect1c RemoteAccessSession\/Finished: <UploadedFiles>\/<File>\[1\]@Size: expected a non-negative number, found string "big"$/],
      [xmlEvent(head('RemoteAccessSession'), { SessionID: 's', State: 'Finished' }, '<DownloadedFiles><File Name="a" StartTime="x"/></DownloadedFiles>'), /^connect1c RemoteAccessSession\/Finished: <DownloadedFiles>\/<File>\[0\]@StartTime: expected a local time/],
    ];
    for (const [xml, message] of cases) expect(failure(xml, 'SB_ERR_INGEST_INVALID_PAYLOAD')).toMatch(message);
  });

  it('accepts a decimal comma in numbers', () => {
    expect(data(only(xmlEvent(head('FileTransfer'), { ...childrenFor('FileTransfer', 'Finished'), TransferDuration: '1,5' }))).durationSec).toBe(1.5);
  });
});
