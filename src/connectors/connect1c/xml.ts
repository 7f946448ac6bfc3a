/**
 * Safe XML for 1С-Коннект: refuses DTDs and entity declarations (no entity bombs, no external
 * entities), bounds the size, checks well-formedness with line and column, and returns a plain
 * element tree. Pure (fast-xml-parser is plain JavaScript): usable in the normalizer.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ValidationError } from '../../core/index.js';

export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** The element's own text (trimmed), '' when none. */
  readonly text: string;
  readonly children: readonly XmlElement[];
}

/** Default largest XML document accepted, in characters. */
export const MAX_XML_CHARS = 256 * 1024;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: true, // the five predefined entities; no DTD can reach here
  htmlEntities: true, // and numeric character references (&#1046; &#x416;), which 1С-Коннект may send
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Node = Record<string, unknown>;

function toElement(node: Node): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
  if (!name) return undefined;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = String(v);
  const content = (node[name] ?? []) as Node[];
  const children: XmlElement[] = [];
  let text = '';
  for (const c of content) {
    if ('#text' in c) text += String(c['#text']);
    else {
      const el = toElement(c);
      if (el) children.push(el);
    }
  }
  return { name, attrs, text: text.trim(), children };
}

/**
 * Parses one XML document into its root element. Throws `ValidationError`
 * (`SB_ERR_INGEST_MALFORMED`) naming the problem: a DTD or entity declaration, over the size
 * limit, or not well-formed (with line and column).
 */
export function parseXml(text: string, maxChars = MAX_XML_CHARS): XmlElement {
  if (text.length > maxChars) throw new ValidationError('SB_ERR_INGEST_MALFORMED', `XML of ${text.length} characters is over the limit of ${maxChars}`);
  if (/<!DOCTYPE/i.test(text)) throw new ValidationError('SB_ERR_INGEST_MALFORMED', 'XML with a DTD (<!DOCTYPE) is refused');
  if (/<!ENTITY/i.test(text)) throw new ValidationError('SB_ERR_INGEST_MALFORMED', 'XML with an entity declaration (<!ENTITY) is refused');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new ValidationError('SB_ERR_INGEST_MALFORMED', `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  const roots = (parser.parse(text) as Node[]).map(toElement).filter((e): e is XmlElement => e !== undefined);
  const root = roots[0];
  if (!root) throw new ValidationError('SB_ERR_INGEST_MALFORMED', 'XML without a root element');
  if (roots.length > 1) throw new ValidationError('SB_ERR_INGEST_MALFORMED', `XML with ${roots.length} root elements; expected one`);
  return root;
}

/** The text of the first child named `name`, or undefined. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = el.children.find((x) => x.name === name);
  return c === undefined ? undefined : c.text;
}

/** Splits a relay body holding one or several `<Event>` documents (optionally inside one wrapper element) into their XML texts. */
export function splitEvents(text: string): string[] {
  // An attribute value may hold '>' or '/>'; a child may be self-closing: match the start tag
  // attribute by attribute, then either end it with '/>' or take everything up to </Event>.
  const events = text.match(/<Event\b(?:[^>"']|"[^"]*"|'[^']*')*?(?:\/>|>[\s\S]*?<\/Event>)/g);
  return events ?? [];
}
