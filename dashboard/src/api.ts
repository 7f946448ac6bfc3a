/**
 * The dashboard's calls to the HTTP API (docs/openapi.json). It holds no token: after the login
 * (`POST /v1/sessions` with the token typed once) the browser's HttpOnly session cookie
 * authorizes every call, the live stream too.
 */

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when a request comes back 401: the session ended (logout, restart, expiry). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) {
    onUnauthorized();
    throw new Unauthorized('unauthorized');
  }
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? 'HTTP', err?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export const post = <T>(path: string, body?: unknown) =>
  api<T>(path, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
export const patch = <T>(path: string, body: unknown) => api<T>(path, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Trades the API token for the session cookie; false when the token is wrong. */
export async function login(token: string): Promise<boolean> {
  const res = await fetch('/v1/sessions', { method: 'POST', credentials: 'same-origin', headers: { authorization: `Bearer ${token}` } });
  return res.status === 201;
}

export async function logout(): Promise<void> {
  await fetch('/v1/sessions', { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
}

/** A query string of the given values, leaving out empty ones. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface Party {
  id?: string;
  name?: string;
  phone?: string;
  role?: string;
}

export interface CloudEvent {
  id: string;
  type: string;
  subject: string;
  time: string;
  platform: string;
  source: string;
  nativetype: string;
  sequence: string;
  timesource?: string;
  data: Record<string, unknown> & { native?: unknown };
}

export interface Call {
  id: string;
  connectorId: string;
  platform: string;
  callId: string;
  state: string;
  direction?: string;
  from?: Party;
  to?: Party;
  operator?: Party;
  conversation?: string;
  outcome?: string;
  reason?: string;
  ringingAt?: string;
  answeredAt?: string;
  endedAt?: string;
  durationSec?: number;
  talkSec?: number;
  rating?: number;
  ratingScale?: number;
  recordingUrl?: string;
  lastEventAt: string;
}

export interface Conversation {
  id: string;
  connectorId: string;
  platform: string;
  conversationId: string;
  state: string;
  client?: Party;
  operator?: Party;
  channel?: string;
  messages: number;
  inbound: number;
  outbound: number;
  openedAt: string;
  closedAt?: string;
  rating?: number;
  assignedAt?: string;
  firstResponseSec?: number;
  lastActivityAt: string;
}

export interface TimelineEntry {
  kind: 'message' | 'state' | 'call-record';
  time: string;
  sequence: string;
  type: string;
  eventId: string;
  text?: string;
  direction?: string;
  call?: string;
}

export interface Operator {
  id: string;
  connectorId: string;
  platform: string;
  operatorId: string;
  name?: string;
  status: string;
  nativeStatus?: string;
  since: string;
}

export interface Connector {
  id: string;
  platform: string;
  ingest: boolean;
  events: number;
  quarantined: number;
  lastEvent: { sequence: string; receivedAt?: string } | null;
  secondsSinceLastEvent: number | null;
  transport: string;
  state: string;
  errors?: number;
  lastError?: string | null;
}

export interface QuarantineEntry {
  id: string;
  connectorId: string;
  receivedAt: string;
  code: string;
  reason: string;
  contentType?: string;
  raw: string;
  rawEncoding?: 'base64';
  resolution?: { action: string; at: string };
}

export interface Subscription {
  id: string;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  description: string | null;
  deliveries: { pending: number; delivered: number; failed: number };
}

export interface Delivery {
  id: string;
  eventId: string;
  sequence: string;
  type: string | null;
  subject: string;
  status: string;
  attempts: number;
  round: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  updatedAt: string;
}

export interface StatsRow {
  period: string | null;
  key: string | null;
  calls: Record<string, number | null>;
  chats: Record<string, number | null>;
}

export const PLATFORMS = ['widget', 'threads', 'twin', 'connect1c', 'greenapi'] as const;
