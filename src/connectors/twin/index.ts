/**
 * The TWIN connector: the operator panel's live events over Centrifugo (server-side
 * subscriptions), with a static token or an IAM login renewed before it expires.
 */
import type { ConnectorDefinition } from '../types.js';
import { normalizeTwin } from './normalize.js';
import { twinSettings, type TwinSettings } from './settings.js';
import { TwinSource } from './source.js';

export { twinSettings, type TwinSettings } from './settings.js';

export const twin: ConnectorDefinition<TwinSettings> = {
  platform: 'twin',
  description: 'TWIN operator panel: live events over Centrifugo (sessions, messages, reads, typing, presence, operator revocation).',
  settings: twinSettings,
  normalize: normalizeTwin,
  source: (ctx) => new TwinSource(ctx),
};
