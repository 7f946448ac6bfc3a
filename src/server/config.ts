/**
 * Configuration (DESIGN §4): one YAML or JSON file with `${ENV_VAR}` substitution. Every
 * error names the key path, what was expected and what was found; all errors are reported at
 * once, and a config with any error is refused.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { parseDocument } from 'yaml';
import { ConfigError, DEFAULT_PAYLOAD_LIMITS, describeValue, isRecord, toConfigIssues, type ConfigIssue, type Platform } from '../core/index.js';
import { MASK, maskSecrets, maskUrl } from '../core/secrets.js';
import { CONNECTORS, connectorFor } from '../connectors/registry.js';
import { checkDeliveryConfig, deliveryRootKeys, duration, type DeliveryConfig, type NatsConfig, type SubscriptionConfig } from './delivery/config.js';
import { retentionSchema, type RetentionConfig } from './retention-config.js';

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
  /** Bytes of ingest bodies being read or waiting for their commit beyond which ingest answers 503 with Retry-After. */
  maxBytesInFlight: z._default(z.int().check(z.gte(1024)), 64 * 1024 * 1024),
  /** The shape of one native payload, checked when it is parsed (over them: 400 SB_ERR_INGEST_LIMIT). */
  limits: z.prefault(
    z.strictObject({
      /** Deepest nesting of objects and arrays. */
      maxDepth: z._default(z.int().check(z.gte(1), z.lte(1000)), DEFAULT_PAYLOAD_LIMITS.maxDepth),
      /** Most object keys plus array elements, counted through every level. */
      maxKeys: z._default(z.int().check(z.gte(1)), DEFAULT_PAYLOAD_LIMITS.maxKeys),
    }),
    {},
  ),
  /** Most milliseconds to receive a whole request, headers and body: a slower (or silent) client is answered 408 and disconnected. */
  requestTimeout: z._default(z.int().check(z.gte(100)), 30_000),
});

const storeSchema = z.strictObject({
  sqlite: z.optional(z.string().check(z.minLength(1))),
  postgres: z.optional(z.string().check(z.minLength(1))),
  /** `full`: fsync before every ack (default). `normal`: survives a process crash, may lose the last commits on power loss. */
  durability: z._default(z.enum(['full', 'normal']), 'full'),
  /**
   * PostgreSQL with several instances: how long a lease (a pulled connector, the NATS sink,
   * retention) outlives its holder's last renewal, renewed every fifth of it. The work of an
   * instance that died moves within this and a fifth more (default 10 s; 2 s to 5 min).
   */
  leaseTtl: z._default(z.pipe(duration, z.number().check(z.refine((ms) => ms >= 2_000 && ms <= 300_000, 'a duration from 2s to 5m'))), 10_000),
});

/** The thresholds of the contact-center KPIs (`GET /v1/stats`, docs/projections.md). */
const statsSchema = z.strictObject({
  /** Inbound calls answered within this many seconds of ringing meet the service level. */
  serviceLevelSec: z._default(z.number().check(z.gt(0), z.lte(3600)), 20),
  /** Abandoned calls that rang less than this many seconds are short-abandoned (left out of the service level). */
  shortAbandonSec: z._default(z.number().check(z.gte(0), z.lte(600)), 5),
});

/** OpenTelemetry tracing (docs/operations.md), off by default. */
const tracingSchema = z.strictObject({
  enabled: z._default(z.boolean(), false),
  /** The OTLP/HTTP traces URL; absent: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces. */
  endpoint: z.optional(z.url({ protocol: /^https?$/ })),
  /** Headers of the export requests, e.g. a collector's API key. */
  headers: z.optional(z.record(z.string(), z.string())),
  serviceName: z._default(z.string().check(z.minLength(1)), 'switchboard'),
  /** The share of new traces recorded, 0..1; traces a sender started follow its decision. */
  sampleRatio: z._default(z.number().check(z.gte(0), z.lte(1)), 1),
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
  tracing: z.prefault(tracingSchema, {}),
  stats: z.prefault(statsSchema, {}),
  /** How long events and quarantine entries are kept (docs/privacy.md); absent: for ever. */
  retention: z.prefault(retentionSchema, {}),
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
  readonly store: { readonly sqlite?: string | undefined; readonly postgres?: string | undefined; readonly durability: 'full' | 'normal'; readonly leaseTtl: number };
  readonly log: z.output<typeof logSchema>;
  readonly tracing: z.output<typeof tracingSchema>;
  readonly stats: z.output<typeof statsSchema>;
  /** Retention windows; durations in milliseconds. */
  readonly retention: RetentionConfig;
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

/** `true`/`false` given through `${ENV}` arrive as strings; accept them where a boolean is expected. */
function coerceBoolean(value: unknown): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}

/** A number given through `${ENV}` (`0.25`). */
function coerceNumber(value: unknown): unknown {
  return typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/** Numbers given through `${ENV}` arrive as strings; accept them where a number is expected. */
function coercePort(value: unknown): unknown {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Validates a config object (already parsed from YAML/JSON, or given to `createSwitchboard`).
 * Throws `ConfigError` listing every problem: each section, each connector and each
 * cross-key rule is checked even when others have errors, so one run reports them all.
 */
export function resolveConfig(input: unknown, options: ResolveOptions = {}): SwitchboardConfig {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const raw = input === undefined || input === null ? {} : input;
  if (!isRecord(raw)) throw new ConfigError([{ path: '', expected: 'an object (a YAML/JSON mapping)', found: describeValue(raw) }]);
  const { dataDir: dataDirInput, ...rest } = raw;
  const substituted = substituteEnv(rest, env, '', issues) as Record<string, unknown>;
  if (isRecord(substituted.server)) substituted.server = { ...substituted.server, port: coercePort(substituted.server.port) };
  if (isRecord(substituted.tracing)) substituted.tracing = { ...substituted.tracing, enabled: coerceBoolean(substituted.tracing.enabled), sampleRatio: coerceNumber(substituted.tracing.sampleRatio) };

  const parsed = rootSchema.safeParse(substituted);
  if (!parsed.success) issues.push(...toConfigIssues(parsed.error.issues, substituted));

  // The rules across keys look at the raw values, so that they run even when a section has errors.
  const connectors = Array.isArray(substituted.connectors) ? resolveConnectors(substituted.connectors, issues) : undefined;
  const store = isRecord(substituted.store) ? substituted.store : {};
  if (store.sqlite !== undefined && store.postgres !== undefined) issues.push({ path: 'store', expected: 'one of sqlite or postgres', found: 'both' });
  if (typeof store.postgres === 'string' && !isPostgresUrl(store.postgres)) {
    issues.push({ path: 'store.postgres', expected: 'a PostgreSQL URL: postgres://user:password@host:5432/database', found: describeValue(maskUrl(store.postgres)) });
  }
  const envPostgres = env.SWITCHBOARD_POSTGRES_URL;
  if (store.sqlite === undefined && store.postgres === undefined && envPostgres !== undefined && envPostgres !== '' && !isPostgresUrl(envPostgres)) {
    issues.push({ path: 'SWITCHBOARD_POSTGRES_URL', expected: 'a PostgreSQL URL: postgres://user:password@host:5432/database', found: describeValue(maskUrl(envPostgres)) });
  }
  checkDeliveryConfig(substituted.subscriptions, substituted.delivery, issues);
  const port = portOverride(options.port, env.SWITCHBOARD_PORT, issues);
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const dataDir = resolve(options.dataDir ?? (typeof dataDirInput === 'string' ? dataDirInput : undefined) ?? env.SWITCHBOARD_DATA ?? './data');
  const server = { ...parsed.data.server, ...(port === undefined ? {} : { port }) };
  if (server.apiToken === undefined && env.SWITCHBOARD_API_TOKEN) server.apiToken = env.SWITCHBOARD_API_TOKEN;
  return {
    server,
    store: storeOf(parsed.data.store, env.SWITCHBOARD_POSTGRES_URL, dataDir),
    log: parsed.data.log,
    tracing: parsed.data.tracing,
    stats: parsed.data.stats,
    retention: parsed.data.retention,
    connectors,
    dataDir,
    subscriptions: parsed.data.subscriptions,
    delivery: parsed.data.delivery,
    nats: parsed.data.nats,
  };
}

/** A `postgres://` or `postgresql://` URL with a host. */
function isPostgresUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * The store: the file's `sqlite` or `postgres`; with neither, `SWITCHBOARD_POSTGRES_URL` when set,
 * else SQLite in the data folder.
 */
function storeOf(store: { sqlite?: string | undefined; postgres?: string | undefined; durability: 'full' | 'normal'; leaseTtl: number }, envPostgres: string | undefined, dataDir: string): SwitchboardConfig['store'] {
  const common = { durability: store.durability, leaseTtl: store.leaseTtl };
  if (store.postgres !== undefined) return { postgres: store.postgres, ...common };
  if (store.sqlite === undefined && envPostgres) return { postgres: envPostgres, ...common };
  return { sqlite: store.sqlite ?? join(dataDir, 'switchboard.db'), ...common };
}

/** `--port` wins over `SWITCHBOARD_PORT`, which wins over the file. */
function portOverride(cli: number | undefined, envPort: string | undefined, issues: ConfigIssue[]): number | undefined {
  if (cli !== undefined) return cli;
  if (!envPort) return undefined;
  if (/^\d{1,5}$/.test(envPort) && Number(envPort) <= 65535) return Number(envPort);
  issues.push({ path: 'SWITCHBOARD_PORT', expected: 'a port number 0..65535', found: describeValue(envPort) });
  return undefined;
}

const COMMON_KEYS = ['id', 'platform', 'ingestToken', 'callRecords', 'language', 'corsOrigins'] as const;

/**
 * Checks every entry completely: its common keys, its id against the others and its platform's
 * own keys, each even when another of them is wrong. Returns the entries only when all are valid.
 */
function resolveConnectors(entries: readonly unknown[], issues: ConfigIssue[]): ConnectorConfig[] | undefined {
  const out: ConnectorConfig[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    const at = `connectors[${i}]`;
    if (!isRecord(entry)) {
      issues.push({ path: at, expected: 'an object with id and platform', found: describeValue(entry) });
      return;
    }
    const common: Record<string, unknown> = {};
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) ((COMMON_KEYS as readonly string[]).includes(k) ? common : settings)[k] = v;
    const c = commonConnectorSchema.safeParse(common);
    if (!c.success) issues.push(...toConfigIssues(c.error.issues, common, at));
    if (typeof entry.id === 'string') {
      if (seen.has(entry.id)) issues.push({ path: `${at}.id`, expected: 'an id no other connector has', found: `a second "${entry.id}"` });
      seen.add(entry.id);
    }
    const def = typeof entry.platform === 'string' ? connectorFor(entry.platform) : undefined;
    if (!def) {
      if (typeof entry.platform === 'string') issues.push({ path: `${at}.platform`, expected: platformExpected(entry.platform), found: describeValue(entry.platform) });
      return;
    }
    const s = def.settings.safeParse(settings);
    if (!s.success) issues.push(...toConfigIssues(s.error.issues, settings, at));
    if (!c.success || !s.success) return;
    const { id, ingestToken, callRecords, language, corsOrigins } = c.data;
    out.push({ id, platform: def.platform, ingestToken, callRecords: callRecords ?? 'all', language: language ?? 'ru', corsOrigins: corsOrigins ?? [], settings: s.data });
  });
  return out.length === entries.length ? out : undefined;
}

/** `one of "greenapi", …`, with the nearest name when the given one looks like a typo of it. */
function platformExpected(given: string): string {
  const names = CONNECTORS.map((c) => c.platform);
  const list = `one of ${names.map((n) => `"${n}"`).join(', ')}`;
  const near = names.map((n) => ({ n, d: editDistance(given.toLowerCase(), n) })).sort((a, b) => a.d - b.d)[0];
  return near && near.d <= Math.max(2, Math.floor(near.n.length / 3)) ? `${list} (did you mean "${near.n}"?)` : list;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The connectors a config runs: its own, or with none configured the embedded default, one
 * ingest connector per platform that takes pushed payloads, named after the platform, with the
 * API token as its ingest token.
 */
export function connectorsOf(config: SwitchboardConfig, apiToken: string | undefined): readonly ConnectorConfig[] {
  return config.connectors ?? CONNECTORS.filter((c) => c.ingest).map((c) => ({ id: c.platform, platform: c.platform, ingestToken: apiToken, callRecords: 'all', language: 'ru', corsOrigins: [], settings: {} }));
}

/**
 * The configuration as it takes effect, in the config file's shape: defaults filled in (with no
 * connectors configured, the embedded default ones), durations in milliseconds, every secret
 * masked. What `switchboard config check` prints.
 */
export function effectiveConfig(config: SwitchboardConfig): Record<string, unknown> {
  const connectors = connectorsOf(config, config.server.apiToken).map(({ settings, ...common }) => ({ ...common, ...settings }));
  const { server, store, log, dataDir, subscriptions, delivery, nats } = config;
  // Export headers carry a collector's credentials under any name: every value is hidden.
  const tracing = { ...config.tracing, ...(config.tracing.headers ? { headers: Object.fromEntries(Object.keys(config.tracing.headers).map((k) => [k, MASK])) } : {}) };
  return maskSecrets({ server, store, log, tracing, stats: config.stats, retention: config.retention, dataDir, connectors, subscriptions, delivery, ...(nats ? { nats } : {}) }) as Record<string, unknown>;
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
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return { path: pos ? `${file}:${pos.line}:${pos.col}` : file, expected: 'valid YAML or JSON', found: e.message.split('\n')[0] ?? e.message };
    });
    throw new ConfigError(issues, 'SB_ERR_CONFIG_READ');
  }
  return resolveConfig(doc.toJS() as unknown, options);
}
