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

/** Most elements open inside one another (a bound the parser enforces; the tree is built recursively). */
export const MAX_XML_DEPTH = 100;

/** fast-xml-parser refuses an element opened when more than `maxNestedTags` are open already. */
const MAX_NESTED_TAGS = MAX_XML_DEPTH - 1;

/** Longest parser message quoted in a reason: some quote the whole stack of unclosed tags. */
const MAX_REASON_CHARS = 200;

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(?:#(\d{1,7})|#x([\da-fA-F]{1,6})|(lt|gt|amp|quot|apos));/g;

/** XML's `Char`: what a character reference may stand for. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Replaces the five predefined entities and character references (`&#1046;`, `&#x416;`, which
 * 1С-Коннект may send) in one pass; any other `&…;` and a reference to a character XML does not
 * allow (`&#0;`, a lone surrogate) stay as written. No DTD reaches the parser, so there is
 * nothing else to expand.
 */
export function decodeReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (ref: string, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return PREDEFINED[name] ?? ref;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex ?? '', 16);
    return isXmlChar(cp) ? String.fromCodePoint(cp) : ref;
  });
}

/**
 * fast-xml-parser's own decoder, with `htmlEntities`, is built anew for every document, which
 * took ~0.3 ms: more than parsing a whole event. This one is stateless and shared.
 */
const entityDecoder = {
  decode: decodeReferences,
  reset(): void {},
  setXmlVersion(): void {},
  setExternalEntities(): void {},
  addInputEntities(): void {},
};

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: true,
  entityDecoder,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTED_TAGS,
});

/**
 * Finds the `<Event>` elements of a relay body: each one is a stop node (its content is not
 * parsed, only scanned for its own end tag, so a broken event does not hide the next one), and
 * `captureMetaData` gives where it starts and ends in the body.
 */
const eventFinder = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTED_TAGS,
  stopNodes: ['Event', '..Event'], // at the top level, and below it
  captureMetaData: true,
});

/** Where a node was found in the text (`captureMetaData`): `endIndex` is just past its end. */
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

type Node = Record<string, unknown> & { [META]?: { startIndex?: number; endIndex?: number } };

function clip(message: string): string {
  return message.length > MAX_REASON_CHARS ? `${message.slice(0, MAX_REASON_CHARS)}…` : message;
}

function malformed(message: string): ValidationError {
  return new ValidationError('SB_ERR_INGEST_MALFORMED', message);
}

/** Refuses a DTD or an entity declaration anywhere in the text. */
function refuseDeclarations(text: string): void {
  if (/<!DOCTYPE/i.test(text)) throw malformed('XML with a DTD (<!DOCTYPE) is refused');
  if (/<!ENTITY/i.test(text)) throw malformed('XML with an entity declaration (<!ENTITY) is refused');
}

/** The validator's way of saying that several elements were never closed: it lists them all. */
const UNCLOSED = /^Invalid '(\[[^]*\])' found\.$/;

function unclosedNames(message: string): unknown[] | undefined {
  const list = UNCLOSED.exec(message)?.[1];
  if (list === undefined) return undefined;
  try {
    const names = JSON.parse(list) as unknown;
    return Array.isArray(names) ? names : undefined;
  } catch {
    return undefined;
  }
}

/** `line L, column C` of a position in the text as the parser reads it (line ends made `\n`). */
function lineAndColumn(text: string, index: number): string {
  const lines = text.replace(/\r\n?/g, '\n').slice(0, index).split('\n');
  return `line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1}`;
}

/** The validator's complaint about a second top-level element, which a relay body may have. */
const SEVERAL_ROOTS = 'Multiple possible root nodes found.';

/**
 * Why the text is not well-formed XML (line, column and the problem), or undefined when it is —
 * or when, with `severalRoots`, its first fault is a second top-level element.
 */
function wellFormedProblem(text: string, severalRoots = false): string | undefined {
  const valid = XMLValidator.validate(text);
  if (valid === true || (severalRoots && valid.err.msg === SEVERAL_ROOTS)) return undefined;
  const names = unclosedNames(valid.err.msg);
  if (names !== undefined) {
    const shown = names.slice(0, 3).map((n) => `<${String(n)}>`);
    return `malformed XML at ${lineAndColumn(text, text.length)} (the end): ${names.length} elements are not closed: ${shown.join(', ')}${names.length > shown.length ? ', …' : ''}`;
  }
  return `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${clip(valid.err.msg)}`;
}

/** The error for text the parser gave up on: the validator's reason when it has one, else the parser's own, in words. */
function unreadable(text: string, err: unknown, severalRoots: boolean): ValidationError {
  const problem = wellFormedProblem(text, severalRoots);
  if (problem !== undefined) return malformed(problem);
  const message = err instanceof Error ? err.message : String(err);
  if (/nested tags/i.test(message)) return malformed(`XML nested deeper than ${MAX_XML_DEPTH} elements is refused`);
  const open = /^Unexpected end of (\S+)$/.exec(message)?.[1];
  if (open !== undefined) return malformed(`malformed XML: <${clip(open)}> is not closed`);
  const at = /^readTagExp returned undefined at position (\d+)/.exec(message)?.[1];
  if (at !== undefined) return malformed(`malformed XML at ${lineAndColumn(text, Number(at))}: a tag is not closed with '>'`);
  return malformed(`XML could not be read: ${clip(message)}`);
}

function elementName(node: Node): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text');
}

function toElement(node: Node): XmlElement | undefined {
  const name = elementName(node);
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
 * limit, not well-formed (with line and column), nested deeper than `MAX_XML_DEPTH`.
 */
export function parseXml(text: string, maxChars = MAX_XML_CHARS): XmlElement {
  if (text.length > maxChars) throw malformed(`XML of ${text.length} characters is over the limit of ${maxChars}`);
  refuseDeclarations(text);
  const problem = wellFormedProblem(text);
  if (problem !== undefined) throw malformed(problem);
  let nodes: Node[];
  try {
    nodes = parser.parse(text) as Node[];
  } catch (err) {
    throw unreadable(text, err, false);
  }
  const roots = nodes.map(toElement).filter((e): e is XmlElement => e !== undefined);
  const root = roots[0];
  if (!root) throw malformed('XML without a root element');
  if (roots.length > 1) throw malformed(`XML with ${roots.length} root elements; expected one`);
  return root;
}

/** The text of the first child named `name`, or undefined. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = el.children.find((x) => x.name === name);
  return c === undefined ? undefined : c.text;
}

/**
 * Splits a relay body into the XML texts of its `<Event>` elements, exactly as they are in the
 * body: at the top level (one or several) or inside wrapper elements, never an `<Event>` inside
 * another, a comment or CDATA. The parser finds them, in time linear in the body; an event's
 * content is only scanned for its end tag, so an event that is not well-formed is returned like
 * the others (for `parseXml` to refuse it alone).
 *
 * Throws `ValidationError` (`SB_ERR_INGEST_MALFORMED`) naming the problem when the body holds a
 * DTD or an entity declaration, when the parser cannot read it (an unclosed `<Event>`, a tag that
 * never ends: the reason gives line and column), and when it holds no `<Event>`.
 */
export function splitEvents(text: string): string[] {
  refuseDeclarations(text);
  let nodes: Node[];
  try {
    nodes = eventFinder.parse(text) as Node[];
  } catch (err) {
    throw unreadable(text, err, true);
  }
  const events: string[] = [];
  // Depth is bounded by MAX_XML_DEPTH: the parser refuses deeper nesting.
  const visit = (list: readonly Node[]): void => {
    for (const node of list) {
      const name = elementName(node);
      if (name === undefined) continue;
      const at = node[META];
      if (name === 'Event' && at?.startIndex !== undefined) events.push(text.slice(at.startIndex, at.endIndex ?? text.length));
      else if (name !== 'Event') visit((node[name] ?? []) as Node[]);
    }
  };
  visit(nodes);
  if (events.length === 0) {
    const problem = text.trim() === '' ? undefined : wellFormedProblem(text, true);
    throw malformed(problem === undefined ? 'no <Event> element' : `no <Event> element: ${problem}`);
  }
  return events;
}
