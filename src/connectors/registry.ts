/**
 * The connector registry: one line per platform. Adding a platform is a folder under
 * `src/connectors/` and one line here.
 */
import type { Platform } from '../core/index.js';
import { connect1c } from './connect1c/index.js';
import { greenapi } from './greenapi/index.js';
import { threads } from './threads/index.js';
import { twin } from './twin/index.js';
import { widget } from './widget/index.js';
import { defineConnector, type ConnectorDefinition } from './types.js';

export const CONNECTORS: readonly ConnectorDefinition[] = [
  defineConnector(greenapi),
  defineConnector(twin),
  defineConnector(widget),
  defineConnector(threads),
  defineConnector(connect1c),
];

export function connectorFor(platform: string): ConnectorDefinition | undefined {
  return CONNECTORS.find((c) => c.platform === platform);
}

export function registeredPlatforms(): Platform[] {
  return CONNECTORS.map((c) => c.platform);
}
