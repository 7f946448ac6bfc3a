/** The server features, in start order. */
import type { FeatureFactory } from './feature.js';

export const FEATURES: readonly FeatureFactory[] = [];
