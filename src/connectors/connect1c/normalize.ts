/**
 * TEMPORARY placeholder written by the transport helper so that the connector compiles; the
 * normalizer helper overwrites this file with the real `normalizeConnect1c`.
 */
import { unmapped, type Normalizer } from '../../core/index.js';
import { parseXml } from './xml.js';

export const normalizeConnect1c: Normalizer = (payload, ctx) => {
  const xml = typeof payload === 'string' ? payload : String(payload);
  const root = parseXml(xml);
  const id = root.attrs.ID;
  const nativetype = `${root.attrs.Mode ?? ''}/${root.attrs.Object ?? ''}`;
  const state = root.children.find((c) => c.name === 'State')?.text ?? '';
  return [unmapped('connect1c', ctx, xml, nativetype, 'placeholder normalizer', id ? `${id}|${state}` : undefined)];
};
