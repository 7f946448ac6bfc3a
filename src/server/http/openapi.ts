/**
 * Route schemas that validate and describe (issue 18): requests are checked with the zod schemas
 * each route declares, answered like every other bad input (a `SwitchboardError` with its code
 * and a message naming the field), and the same schemas make the OpenAPI 3.1 document that
 * `@fastify/swagger` serves at `/openapi.json` (committed as `docs/openapi.json`, kept in step by
 * `test/openapi.test.ts`).
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import type { Logger } from 'pino';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { $ZodType, safeParse } from 'zod/v4/core';
import { SwitchboardError, describeIssues, type ErrorCode } from '../../core/index.js';
import { VERSION } from '../version.js';
import { API_REGISTRY } from './api-schemas.js';

/** How a request part that fails its schema is answered: the code and the words before the issues. */
export interface InvalidAnswer {
  readonly code: ErrorCode;
  readonly what: string;
}

/** Bodies answered with their area's code (`subscription: at url: …`); set with `answerInvalidBody`. */
const bodyAnswers = new WeakMap<$ZodType, InvalidAnswer>();

/** Declares how a body schema's failures are answered (default: SB_ERR_QUERY_INVALID, "invalid body"). */
export function answerInvalidBody<T extends $ZodType>(schema: T, answer: InvalidAnswer): T {
  bodyAnswers.set(schema, answer);
  return schema;
}

const QUERY: InvalidAnswer = { code: 'SB_ERR_QUERY_INVALID', what: 'invalid query' };
const PARAMS: InvalidAnswer = { code: 'SB_ERR_QUERY_INVALID', what: 'invalid path' };
const BODY: InvalidAnswer = { code: 'SB_ERR_QUERY_INVALID', what: 'invalid body' };

/**
 * Fastify's validator for zod schemas. Fastify passes a missing body as `null`: it is checked as
 * `{}`, so that a body whose fields are all optional may be left out.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (!(schema instanceof $ZodType)) throw new TypeError(`a route declares a ${httpPart ?? 'request'} schema that is not a zod schema`);
  const answer = httpPart === 'body' ? (bodyAnswers.get(schema) ?? BODY) : httpPart === 'params' ? PARAMS : QUERY;
  return (data: unknown) => {
    const input = data === null && httpPart === 'body' ? {} : data;
    const r = safeParse(schema, input);
    if (r.success) return { value: r.data };
    return { error: new SwitchboardError(answer.code, `${answer.what}: ${describeIssues(r.error.issues, input)}`) };
  };
};


/** Paths the document leaves out: the dashboard page, the document itself. */
const HIDDEN = ['/', '/openapi.json'];

const zodTransform = createJsonSchemaTransform({ skipList: HIDDEN, schemaRegistry: API_REGISTRY });

/**
 * The ingest route takes the platforms' own bodies as bytes (each connector reads its own format;
 * what cannot be read is kept in the quarantine as it came), so it declares no body schema to
 * validate: the document describes the body here.
 */
const INGEST_URL = '/ingest/:connectorId';
const INGEST_BODY = {
  description:
    "The platform's payload as it sends it: a JSON object (GREEN-API webhook, edna Threads push, call-widget event), a JSON array or NDJSON lines of them, or a 1С-Коннект XML event. Their formats: docs/connectors.md and docs/events.md.",
};

const withComponents = createJsonSchemaTransformObject({ schemaRegistry: API_REGISTRY });


type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every `$ref` under `node`. */
function refsIn(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const x of node) refsIn(x, out);
  else if (isJson(node)) for (const [k, v] of Object.entries(node)) if (k === '$ref' && typeof v === 'string') out.add(v);
  else refsIn(v, out);
  return out;
}

/**
 * The finishing touches `@fastify/swagger` leaves out: each response described (its schema's
 * description, else the status's name), and only the components something refers to (the
 * zod transform emits an input and an output variant of every named schema).
 */
function finishDocument(doc: Json): Json {
  const components = isJson(doc.components) ? doc.components : {};
  const schemas = isJson(components.schemas) ? components.schemas : {};
  for (const path of Object.values(isJson(doc.paths) ? doc.paths : {})) {
    for (const op of Object.values(isJson(path) ? path : {})) {
      const responses = isJson(op) && isJson(op.responses) ? op.responses : {};
      for (const [status, response] of Object.entries(responses)) {
        if (!isJson(response) || response.description !== 'Default Response') continue;
        const ref = [...refsIn(response, new Set())][0];
        const named = ref === undefined ? undefined : schemas[ref.replace('#/components/schemas/', '')];
        response.description = isJson(named) && typeof named.description === 'string' ? named.description : status === 'default' ? 'An error (docs/errors.md)' : (STATUS_CODES[status] ?? status);
      }
    }
  }
  // Components reached from the paths, and from the components they reach.
  const used = new Set<string>();
  let frontier = refsIn(doc.paths, new Set());
  while (frontier.size > 0) {
    const next = new Set<string>();
    for (const ref of frontier) {
      const name = ref.replace('#/components/schemas/', '');
      if (used.has(name)) continue;
      used.add(name);
      refsIn(schemas[name], next);
    }
    frontier = next;
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)).sort(([a], [b]) => a.localeCompare(b)));
  return { ...doc, components: { ...components, schemas: kept } };
}

/**
 * Registers the zod validator, a plain JSON serializer (answers are what the handlers return, not
 * filtered by their schemas) and `@fastify/swagger`; call before any route.
 */
/** The server's Fastify instance (its logger is pino's). */
export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;

export async function registerOpenApi(app: App): Promise<void> {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard',
        version: VERSION,
        description:
          'One listener for contact-center and messenger event feeds: ingest of the platforms\u2019 native payloads, the normalized event log (CloudEvents 1.0), calls, conversations and operators, the live stream and webhook subscriptions. What Switchboard sends (the stream, webhooks, NATS) is described in docs/asyncapi.yaml; errors in docs/errors.md.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      tags: [
        { name: 'ingest', description: "The platforms' native payloads, pushed (docs/connectors.md)." },
        { name: 'events', description: 'The event log and the live stream.' },
        { name: 'projections', description: 'Calls, conversations with their timelines, operators.' },
        { name: 'subscriptions', description: 'Signed webhooks (docs/delivery.md).' },
        { name: 'operations', description: 'Health, readiness, metrics, connectors, quarantine, schemas.' },
      ],
      security: [{ apiToken: [] }],
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'The API token (config `server.apiToken`, else the file `api-token` in the data folder).' },
          ingestToken: { type: 'http', scheme: 'bearer', description: "The connector's ingest token (`connectors[].ingestToken`); any scheme word is taken (GREEN-API sends its own)." },
        },
      },
    },
    transform: (route) => {
      const out = zodTransform(route);
      return route.url === INGEST_URL ? { ...out, schema: { ...out.schema, body: INGEST_BODY } } : out;
    },
    transformObject: (input) => finishDocument(withComponents(input)),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
