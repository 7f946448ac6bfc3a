/** The server features, in start order. */
import type { FeatureFactory } from './feature.js';
import { createProjections } from './projections/index.js';
import { createDelivery } from './delivery/index.js';
import { createRetention } from './retention.js';
import { createErasures } from './erasure.js';

export const FEATURES: readonly FeatureFactory[] = [
  createProjections,
  createDelivery,
  createRetention,
  createErasures,
];
