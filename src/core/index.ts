/**
 * The pure, isomorphic core of Switchboard: the event model, its schemas and the normalizer
 * contract. No Node built-ins are imported here or below.
 */
export { DATA_SCHEMAS, CALL_OUTCOMES, MESSAGE_STATUSES, dataJsonSchema, validateData } from './catalog.js';
export type { EventDataMap, Party, Direction, CallOutcome, Attachment } from './catalog.js';
export { EVENT_TYPES, dataSchemaUri, isEventType } from './event-types.js';
export type { EventType } from './event-types.js';
export { PLATFORMS, isPlatform, createEvent, validateEvent, eventId, sourceOf, hashCanonical, canonicalJson, toIsoUtc } from './event.js';
export type { Platform, SwitchboardEvent, AnyEvent, EventInit } from './event.js';
export { collector, unmapped, invalidPayload, isRecord, parseWith, payloadHash, refuseDeepNesting, nestedDeeperThan, MAX_PAYLOAD_DEPTH } from './normalizer.js';
export type { Normalizer, NormalizeContext, DataWithoutNative } from './normalizer.js';
export { DEFAULT_PAYLOAD_LIMITS, jsonSyntaxMessage, payloadLimitBreach, parseJsonWithin } from './limits.js';
export type { PayloadLimits, LimitBreach } from './limits.js';
export { compileTypePattern } from './pattern.js';
export type { TypePattern, TypesMatching, TypesOfFilter } from './pattern.js';
export { CLIENT_ERROR_CODES, ERROR_CODES } from './error-catalogue.js';
export type { ClientOnlyErrorCode } from './error-catalogue.js';
export { ERROR_STATUS, SwitchboardError, ConfigError, ValidationError, RetryableError, StoreError, OverloadedError } from './errors.js';
export type { ErrorCode, ConfigIssue, StoreFailureKind } from './errors.js';
export { describeIssues, toConfigIssues, formatPath, describeValue, abbreviate } from './issues.js';
export { canonicalOrder } from './order.js';
export type { OrderedEventLike } from './order.js';
export { foldCall, namedParty, CALL_STATES, CALL_RANK } from './calls.js';
export type { Call, CallState, CallEventLike } from './calls.js';
export { backoffDelay, compact, finite, idOf, isoOf, nz, num, parseDateTime, parseTime, rec, seededRandom, sleep, MAX_TIME_MS } from './kit.js';
export type { DateTimeParts } from './kit.js';
