/**
 * The browser / React Native module of Switchboard (DESIGN §1, layer 2): the call widget and
 * Threads pushes heard inside an app, normalized with the server's own pure normalizers, handed
 * to typed handlers, optionally forwarded to a Switchboard server. No Node built-ins.
 *
 * @example
 * import { createListener } from 'switchboard/client';
 * const listener = createListener({
 *   widgetOrigins: ['https://widget.example.com'],
 *   forward: { widget: { url: 'https://sb.example.com', connectorId: 'widget-web', token: '…' } },
 * });
 * listener.on('call.ended', (e) => console.log(e.data.outcome, e.data.reason));
 * listener.attachWindow();
 */
export { createListener, mobileCode } from './listener.js';
export type { Listener, ListenerOptions, ListenerStats, HandleResult, EventOf, MobileCodeMessage, WidgetMobileCode, WindowLike, MessageEventLike } from './listener.js';
export { forwardTo } from './forwarder.js';
export type { Forwarder, ForwardOptions, ForwarderStatus, FetchLike } from './forwarder.js';
export { ClientError } from './errors.js';
export type { ClientErrorCode, ErrorHandler } from './errors.js';
export { foldCall } from '../core/index.js';
export type { Call, CallState, CallEventLike } from '../core/index.js';
export type { AnyEvent, SwitchboardEvent, EventType, TypePattern } from '../core/index.js';
