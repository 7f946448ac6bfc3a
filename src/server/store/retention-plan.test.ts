import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../core/index.js';
import { expiryStreams } from './retention-plan.js';

describe('expiryStreams', () => {
  it('splits the log by the window that applies: the first matching type pattern, then the connector, then the default', () => {
    const streams = expiryStreams({ eventsMs: 90, connectorsMs: { wa2: 10 }, typesMs: [['call.ended,message.*', 30], ['message.created', 5], ['*.closed', 7]] }, EVENT_TYPES);
    const byType = Object.fromEntries(streams.filter((s) => s.stream.type !== undefined).map((s) => [s.stream.type, s.windowMs]));
    // message.created matches the first pattern before its own: 30, not 5.
    expect(byType).toEqual({ 'call.ended': 30, 'call.closed': 7, 'conversation.closed': 7, 'message.created': 30, 'message.edited': 30, 'message.status-changed': 30 });
    const ruled = Object.keys(byType).sort();
    const rest = streams.filter((s) => s.stream.type === undefined);
    expect(rest.map((s) => ({ ...s, stream: { ...s.stream, exceptTypes: [...(s.stream.exceptTypes ?? [])].sort() } }))).toEqual([
      { stream: { connectorId: 'wa2', exceptTypes: ruled }, windowMs: 10 },
      { stream: { exceptConnectors: ['wa2'], exceptTypes: ruled }, windowMs: 90 },
    ]);
  });

  it('without a default window, events of no pattern and no connector window are kept: no stream for them', () => {
    expect(expiryStreams({ connectorsMs: {}, typesMs: [['connector.*', 7]] }, EVENT_TYPES).map((s) => s.stream.type)).toEqual(['connector.connected', 'connector.disconnected', 'connector.gap-detected', 'connector.auth-failed']);
    expect(expiryStreams({ connectorsMs: {}, typesMs: [] }, EVENT_TYPES)).toEqual([]);
  });
});
