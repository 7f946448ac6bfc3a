/**
 * The AsyncAPI 3.0 description of what Switchboard sends (issue 18): the SSE stream
 * (`GET /v1/stream`), the outgoing webhooks (Standard Webhooks headers) and the NATS JetStream
 * subjects — each carrying every event type, with the type's data schema from the catalogue.
 * Generated, never written by hand: `npm run asyncapi` writes `docs/asyncapi.yaml` and
 * `test/asyncapi.test.ts` fails when the committed file differs from what this gives.
 */
import { EVENT_TYPES, PLATFORMS, dataJsonSchema, dataSchemaUri, type EventType } from '../core/index.js';

type Json = Record<string, unknown>;

/** The CloudEvents envelope every event shares (docs/events.md), without `type` and `data`. */
const ENVELOPE: Json = {
  type: 'object',
  required: ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema', 'platform', 'nativetype', 'data'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', description: "The event's id: the same for the same native fact, whatever delivered it and how often." },
    source: { type: 'string', description: 'switchboard/<platform>/<connectorId>' },
    subject: { type: 'string', description: 'The entity: call/…, conversation/…, operator/…, client/…, channel/…, …' },
    time: { type: 'string', format: 'date-time', description: "The platform's time of the fact (UTC), else the receipt time (then timesource is receipt)." },
    timesource: { const: 'receipt' },
    traceparent: { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', description: 'The W3C trace context of the ingest that stored the event, when tracing is on (CloudEvents distributed-tracing extension); webhooks carry the attempt\'s own in the traceparent header.' },
    datacontenttype: { const: 'application/json' },
    dataschema: { type: 'string', description: 'urn:switchboard:schema:v1:<type>; the schema is served at GET /v1/schemas/<type>.' },
    platform: { enum: [...PLATFORMS] },
    nativetype: { type: 'string', description: "The platform's own name of what it sent." },
    sequence: { type: 'string', pattern: '^\\d{16}$', description: "The store's order: 16 digits, increasing." },
  },
};

/** The payload of an event of `type`: the envelope with that type and its data schema. */
function payloadOf(type: EventType): Json {
  const { $schema: _schema, ...data } = dataJsonSchema(type);
  return {
    allOf: [{ $ref: '#/components/schemas/CloudEvent' }, { type: 'object', properties: { type: { const: type }, dataschema: { const: dataSchemaUri(type) }, data } }],
  };
}

/** A map of every event type to a `$ref` under `base`. */
function refs(base: string): Json {
  return Object.fromEntries(EVENT_TYPES.map((t) => [t, { $ref: `${base}/${t}` }]));
}

/** The AsyncAPI 3.0 document (plain JSON, in a stable key order). */
export function asyncApiDocument(version: string): Json {
  const schemas: Json = {};
  const messages: Json = {};
  const webhookMessages: Json = {};
  for (const type of EVENT_TYPES) {
    schemas[type] = payloadOf(type);
    const message = { name: type, title: type, contentType: 'application/cloudevents+json', payload: { $ref: `#/components/schemas/${type}` } };
    messages[type] = message;
    webhookMessages[type] = { ...message, headers: { $ref: '#/components/schemas/StandardWebhooksHeaders' } };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Switchboard events',
      version,
      description:
        'What Switchboard sends: every stored event as a CloudEvent (docs/events.md), on the live stream (SSE), to webhook subscriptions (Standard Webhooks signatures) and to NATS JetStream. Generated from the event catalogue by `npm run asyncapi`.',
    },
    servers: {
      switchboard: { host: 'localhost:8080', protocol: 'http', description: 'A Switchboard server: GET /v1/stream with the API token (Authorization: Bearer …).' },
      nats: { host: '127.0.0.1:4222', protocol: 'nats', description: 'The NATS server of the `nats` sink (docs/delivery.md).' },
    },
    channels: {
      stream: {
        address: '/v1/stream',
        title: 'Live stream (Server-Sent Events)',
        description:
          'One SSE frame per event: `id:` is the sequence, `event:` the type, `data:` the CloudEvent JSON with `sequence`. Resume with Last-Event-ID or ?after=; filter with ?type=, ?platform=, ?connector=, ?subject= (docs/events.md).',
        servers: [{ $ref: '#/servers/switchboard' }],
        messages: refs('#/components/messages'),
      },
      webhooks: {
        address: '{subscriptionUrl}',
        title: 'Webhook subscriptions',
        description: "One POST per event to each matching subscription's URL, signed per Standard Webhooks; `webhook-id` is the event id on every retry and replay (docs/delivery.md).",
        parameters: { subscriptionUrl: { description: 'The URL of the subscription (POST /v1/subscriptions).' } },
        messages: webhookMessages,
      },
      nats: {
        address: '{subjectPrefix}.{platform}.{type}',
        title: 'NATS JetStream subjects',
        description: 'Every committed event, in sequence order, with headers Nats-Msg-Id (the event id) and Content-Type: application/cloudevents+json. The type keeps its dot: switchboard.*.call.> takes every call event.',
        servers: [{ $ref: '#/servers/nats' }],
        parameters: {
          subjectPrefix: { default: 'switchboard', description: 'nats.subjectPrefix' },
          platform: { enum: [...PLATFORMS] },
          type: { enum: [...EVENT_TYPES] },
        },
        messages: refs('#/components/messages'),
      },
    },
    operations: {
      receiveStream: { action: 'receive', title: 'Follow the live stream', channel: { $ref: '#/channels/stream' }, messages: EVENT_TYPES.map((t) => ({ $ref: `#/channels/stream/messages/${t}` })) },
      sendWebhook: {
        action: 'send',
        title: 'Deliver an event to a webhook subscription',
        description: 'A 2xx answer acknowledges the event; anything else is retried on the schedule of docs/delivery.md.',
        channel: { $ref: '#/channels/webhooks' },
        messages: EVENT_TYPES.map((t) => ({ $ref: `#/channels/webhooks/messages/${t}` })),
      },
      publishNats: { action: 'send', title: 'Publish an event to JetStream', channel: { $ref: '#/channels/nats' }, messages: EVENT_TYPES.map((t) => ({ $ref: `#/channels/nats/messages/${t}` })) },
    },
    components: {
      schemas: {
        ...schemas,
        CloudEvent: ENVELOPE,
        StandardWebhooksHeaders: {
          type: 'object',
          required: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
          properties: {
            'webhook-id': { type: 'string', description: 'The event id: the same on every retry and replay of the event.' },
            'webhook-timestamp': { type: 'string', pattern: '^\\d+$', description: 'Seconds since the epoch of this attempt; covered by the signature.' },
            'webhook-signature': { type: 'string', description: 'v1,<base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}`>, space-separated while a secret rotates.' },
            'content-type': { type: 'string', description: 'application/cloudevents+json; charset=utf-8 (structured mode), application/json (binary mode: attributes as ce-* headers).' },
          },
        },
      },
      messages,
    },
  };
}
