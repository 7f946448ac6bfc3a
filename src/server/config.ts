/**
 * Configuration (DESIGN §4): one YAML or JSON file with `${ENV_VAR}` substitution. Every
 * error names the key path, what was expected and what was found; all errors are reported at
 * once, and a config with any error is refused.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { parseDocument } from 'yaml';
import { ConfigError, describeValue, isRecord, toConfigIssues, type ConfigIssue, type Platform } from '../core/index.js';
import { CONNECTORS, connectorFor } from '../connectors/registry.js';
import { checkDeliveryConfig, deliveryRootKeys, type DeliveryConfig, type NatsConfig, type SubscriptionConfig } from './delivery/config.js';

const serverSchema = z.strictObject({
  port: z._default(z.int().check(z.gte(0), z.lte(65535)), 8080),
  host: z._default(z.string(), '127.0.0.1'),
  apiToken: z.optional(z.string().check(z.minLength(8))),
  /** Largest accepted request body, in bytes. */
  bodyLimit: z._default(z.int().check(z.gte(1024)), 4 * 1024 * 1024),
  /** Events waiting for a commit beyond which ingest answers 503 with Retry-After. */
  maxPendingEvents: z._default(z.int().check(z.gte(1)), 50_000),
  /** Most events committed in one transaction. */
  maxBatchEvents: z._default(z.int().check(z.gte(1)), 2_000),
});

const storeSchema = z.strictObject({
  sqlite: z.optional(z.string().check(z.minLength(1))),
  postgres: z.optional(z.string().check(z.minLength(1))),
  /** `full`: fsync before every ack (default). `normal`: survives a process crash, may lose the last commits on power loss. */
  durability: z._default(z.enum(['full', 'normal']), 'full'),
});

const logSchema = z.strictObject({
  level: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
});

/** Which call events are written into the conversation timeline as call records (DESIGN §3, seed 004). */
export const CALL_RECORD_POLICIES = ['none', 'offer-only', 'results-only', 'all'] as const;
export type CallRecordPolicy = (typeof CALL_RECORD_POLICIES)[number];

const commonConnectorSchema = z.looseObject({
  id: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)),
  platform: z.string(),
  ingestToken: z.optional(z.string().check(z.minLength(8))),
  /** Call records in the conversation timeline (default `all`). */
  callRecords: z.optional(z.enum(CALL_RECORD_POLICIES)),
  /** Language of the call-record texts: Russian (default) or English. */
  language: z.optional(z.enum(['ru', 'en'])),
  /** Web origins allowed to POST to /ingest/<id> from a browser (CORS), e.g. the app embedding the widget. */
  corsOrigins: z.optional(z.array(z.string().check(z.regex(/^(\*|https?:\/\/[^/\s]+)$/)))),
});

const rootSchema = z.strictObject({
  server: z.prefault(serverSchema, {}),
  store: z.prefault(storeSchema, {}),
  log: z.prefault(logSchema, {}),
  connectors: z.optional(z.array(z.unknown())),
  /** Outgoing webhooks (docs/delivery.md). */
  subscriptions: deliveryRootKeys.subscriptions,
  /** Retries, timeouts, concurrency and target safety of outgoing webhooks. */
  delivery: deliveryRootKeys.delivery,
  /** The NATS JetStream sink; absent: no publishing to NATS. */
  nats: deliveryRootKeys.nats,
});

export interface ConnectorConfig {
  readonly id: string;
  readonly platform: Platform;
  readonly ingestToken: string | undefined;
  readonly callRecords: CallRecordPolicy;
  readonly language: 'ru' | 'en';
  readonly corsOrigins: readonly string[];
  /** The platform's own keys, validated by its connector's schema. */
  readonly settings: Record<string, unknown>;
}

export interface SwitchboardConfig {
  readonly server: z.output<typeof serverSchema>;
  readonly store: { readonly sqlite?: string | undefined; readonly postgres?: string | undefined; readonly durability: 'full' | 'normal' };
  readonly log: z.output<typeof logSchema>;
  /** `undefined` when the config names no connectors: the embedded default applies. */
  readonly connectors: readonly ConnectorConfig[] | undefined;
  /** Folder for the SQLite file and the generated API token. */
  readonly dataDir: string;
  /** Webhook subscriptions from the config (more can be made through `/v1/subscriptions`). */
  readonly subscriptions: readonly SubscriptionConfig[];
  /** Delivery settings; durations in milliseconds. */
  readonly delivery: DeliveryConfig;
  /** The NATS JetStream sink, when configured. */
  readonly nats: NatsConfig | undefined;
}

/** What a config file (or `createSwitchboard`) may hold; every key has a default. */
export type SwitchboardConfigInput = z.input<typeof rootSchema> & { dataDir?: string };

export interface ResolveOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides from the command line (`--port`, `--data`), applied after the file. */
  readonly port?: number | undefined;
  readonly dataDir?: string | undefined;
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string of the tree. */
function substituteEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, path: string, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_RE, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({ path, expected: `environment variable ${name} to be set`, found: 'it unset' });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`, issues));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, path ? `${path}.${k}` : k, issues);
    return out;
  }
  return value;
}

/** Numbers given through `${ENV}` arrive as strings; accept them where a number is expected. */
function coercePort(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Validates a config object (already parsed from YAML/JSON, or given to `createSwitchboard`).
 * Throws `ConfigError` listing every problem.
 */
export function resolveConfig(input: unknown, options: ResolveOptions = {}): SwitchboardConfig {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const raw = input === undefined || input === null ? {} : input;
  if (!isRecord(raw)) throw new ConfigError([{ path: '', expected: 'an object (a YAML/JSON mapping)', found: describeValue(raw) }]);
  const { dataDir: dataDirInput, ...rest } = raw;
  const substituted = substituteEnv(rest, env, '', issues) as Record<string, unknown>;
  if (isRecord(substituted.server)) substituted.server = { ...substituted.server, port: coercePort(substituted.server.port) };

  const parsed = rootSchema.safeParse(substituted);
  if (!parsed.success) issues.push(...toConfigIssues(parsed.error.issues, substituted));

  // Connectors are checked even when the rest has errors, so that every problem is reported at once.
  const connectors = Array.isArray(substituted.connectors) ? resolveConnectors(substituted.connectors, issues) : undefined;

  if (parsed.success && parsed.data.store.sqlite && parsed.data.store.postgres) {
    issues.push({ path: 'store', expected: 'one of sqlite or postgres', found: 'both' });
  }
  if (parsed.success && parsed.data.store.postgres) {
    issues.push({ path: 'store.postgres', expected: 'store.sqlite (the PostgreSQL store is not available in this version)', found: 'a postgres URL' });
  }
  if (parsed.success) checkDeliveryConfig(parsed.data.subscriptions, parsed.data.delivery, issues);
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const dataDir = resolve(options.dataDir ?? (typeof dataDirInput === 'string' ? dataDirInput : undefined) ?? env.SWITCHBOARD_DATA ?? './data');
  const server = { ...parsed.data.server };
  const envPort = env.SWITCHBOARD_PORT;
  if (options.port !== undefined) server.port = options.port;
  else if (envPort) {
    if (!/^\d{1,5}$/.test(envPort) || Number(envPort) > 65535) throw new ConfigError([{ path: 'SWITCHBOARD_PORT', expected: 'a port number 0..65535', found: describeValue(envPort) }]);
    server.port = Number(envPort);
  }
  if (server.apiToken === undefined && env.SWITCHBOARD_API_TOKEN) server.apiToken = env.SWITCHBOARD_API_TOKEN;
  const store = { ...parsed.data.store, sqlite: parsed.data.store.sqlite ?? join(dataDir, 'switchboard.db') };
  return { server, store, log: parsed.data.log, connectors, dataDir, subscriptions: parsed.data.subscriptions, delivery: parsed.data.delivery, nats: parsed.data.nats };
}

function resolveConnectors(entries: readonly unknown[], issues: ConfigIssue[]): ConnectorConfig[] {
  const out: ConnectorConfig[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const at = `connectors[${i}]`;
    const common = commonConnectorSchema.safeParse(entry);
    if (!common.success) {
      issues.push(...toConfigIssues(common.error.issues, entry, at));
      return;
    }
    const { id, platform, ingestToken, callRecords, language, corsOrigins, ...settings } = common.data;
    if (seen.has(id)) issues.push({ path: `${at}.id`, expected: 'an id no other connector has', found: `a second "${id}"` });
    seen.add(id);
    const def = connectorFor(platform);
    if (!def) {
      issues.push({ path: `${at}.platform`, expected: `one of ${CONNECTORS.map((c) => `"${c.platform}"`).join(', ')}`, found: describeValue(platform) });
      return;
    }
    const s = def.settings.safeParse(settings);
    if (!s.success) {
      issues.push(...toConfigIssues(s.error.issues, settings, at));
      return;
    }
    out.push({ id, platform: def.platform, ingestToken, callRecords: callRecords ?? 'all', language: language ?? 'ru', corsOrigins: corsOrigins ?? [], settings: s.data });
  });
  return out;
}

/** Reads a YAML or JSON file and resolves it. Parse errors name the line and column. */
export function loadConfigFile(file: string, options: ResolveOptions = {}): SwitchboardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', expected: `a readable config file at ${file}`, found: (err as NodeJS.ErrnoException).code ?? String(err) }], 'SB_ERR_CONFIG_READ');
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new ConfigError([{ path: pos ? `${file}:${pos.line}:${pos.col}` : file, expected: 'valid YAML or JSON', found: first.message.split('\n')[0] ?? first.message }], 'SB_ERR_CONFIG_READ');
  }
  return resolveConfig(doc.toJS() as unknown, options);
}
