// A chat prompt without a template render per request. Rendering a chat template costs more than counting its
// tokens, and in real traffic every conversation is new, so no cache of whole conversations ever answers. What
// repeats is the conversation's shape: its roles, in order, and which messages are empty. For each shape the
// template is rendered once with sentinel texts in place of the contents and cut into segments (template text,
// slot, template text, ...); a request whose contents are all safe is then its shape's segments with its own
// contents in the slots, a string concatenation.
//
// Why this is exact for a safe content. A template reads a message's content by copying it to the output
// (alone or joined to other text) or by operations whose outcome depends on it. Those a template can apply:
//  - tests and methods against a string literal of the template (`'</think>' in c`, `c.startswith('<tool_response>')`,
//    `c.split('</think>')`, `c.replace(a, b)`, `c == 'x'`, `c in 'xyz'`): a safe content neither contains a
//    literal nor lies within one, nor can a literal straddle its edge with text joined to it (the literals of
//    substring tests), so each of these comes out as it does for a sentinel: false, -1, [c], c, unchanged;
//  - the strip family (`strip`, `lstrip`, `rstrip`, `trim`) with or without literal characters: a safe content
//    starts and ends with none of them nor with Python whitespace, so they leave it, as they leave a sentinel;
//  - truthiness, `is string`, `is none`, `length > 0`: a safe content is a non-empty string, as a sentinel is;
//  - anything else that changes with the content (case filters, indexing and slicing, length in the output,
//    escaping, tojson, indent, split on whitespace) gives different results for two sentinels of other lengths
//    and letters, with spaces, newlines, quotes and markup inside, or puts part of a sentinel in the output:
//    such a shape is refused and every chat of that shape is rendered.
// Added-token texts are unsafe too: the strings a template gets besides the messages (bos_token, eos_token)
// are added tokens, so a test of a content against one of them is covered like a literal's; and so are the
// sentinels' own characters. Literals only printed, used as keys or compared with a role are not tested against
// a content and restrict nothing. What this does not cover: a test that both sentinels pass alike but a safe
// content may not, such as `c|length > 500`, `c < 'm'`, `c.split()|length > 3`, or a test against a string
// that is neither a literal nor an added token (`c.startswith(message.role)`, a literal joined at render time
// and then looked for in a content). No bundled template does any of that (test/chat-count-onepass.test.ts
// holds every bundled tokenizer's counts to the full render's); a template that does must not use this.
import { STRIP_CALLS, isPythonSpace, type ChatTemplate } from './chatTemplate.js';
import { Lru } from './lru.js';

export interface ShapedMessage {
  role: string;
  content: string;
}

/** Template text, or the index of the message whose content fills the slot. */
type Segment = string | number;

/** How a chat was rendered: from its shape's segments, or by running the template. */
export type RenderHow = 'shape' | 'template';

export interface ShapeStats {
  shape: number;
  template: number;
}

// Sentinels are private-use characters that no tokenizer text and no safe content holds: the first render
// frames a message's index (in private-use digits) with OPEN and CLOSE, the second adds letters of both
// cases, spaces, a newline, a tab, quotes, markup and a backslash, so that a template that transforms a
// content (and not only copies it) renders the two differently.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const OPEN2 = '\uE002';
const CLOSE2 = '\uE003';
const DIGIT0 = 0xe010;
const SENTINEL_CHAR = /[\uE000-\uE01F]/;
const SLOT = /\uE000([\uE010-\uE019]+)\uE001/g;

function digits(i: number): string {
  let out = '';
  for (const d of String(i)) out += String.fromCharCode(DIGIT0 + d.charCodeAt(0) - 48);
  return out;
}

const sentinel = (i: number): string => `${OPEN}${digits(i)}${CLOSE}`;
const probe = (i: number): string => `${OPEN2}aZ <&"'\n\t${digits(i)}\\ x${CLOSE2}`;

/** A node of the library's parsed tree, as far as the walk below reads it. */
interface Node {
  type: string;
  [field: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

const STATEMENTS = new Set(['Program', 'If', 'For', 'Break', 'Continue', 'Set', 'Macro', 'Comment', 'FilterStatement', 'CallStatement']);

/**
 * Where a string literal stands, which says what a content must avoid for the template to treat it as it
 * treats a sentinel: `output` (printed or joined into what is printed: nothing), `key` (a member or object key:
 * nothing), `equality` (compared with == or !=: neither contain it nor lie within it), `substring` (anywhere
 * else: nor let it straddle an edge).
 */
type Place = 'output' | 'key' | 'equality' | 'substring';

interface Literals {
  equality: Set<string>;
  substring: Set<string>;
  /** Code points that some strip-family call removes. */
  stripped: Set<number>;
  /** False when a strip-family call's characters are not a literal: no content is safe then. */
  known: boolean;
}

/** `x.role` or `x['role']`: a message's role, which the shape fixes, whatever x is (a string has no role). */
function isRole(node: unknown): boolean {
  if (!isNode(node) || node.type !== 'MemberExpression') return false;
  const p = node['property'];
  return isNode(p) && p['value'] === 'role' && (node['computed'] === true ? p.type === 'StringLiteral' : p.type === 'Identifier');
}

function operatorOf(node: Node): string {
  const op = node['operator'];
  return isNode(op) && typeof op['value'] === 'string' ? op['value'] : '';
}

/** The string literals of a parsed template, by where they stand. */
function literalsOf(program: unknown): Literals {
  const found: Literals = { equality: new Set(), substring: new Set(), stripped: new Set(), known: true };
  const note = (text: string, place: Place): void => {
    if (text === '' || place === 'output' || place === 'key') return;
    found[place].add(text);
  };
  const body = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const item of items) visit(item, isNode(item) && !STATEMENTS.has(item.type) ? 'output' : 'substring');
  };
  const visit = (value: unknown, place: Place): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, place);
      return;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) {
        visit(k, isNode(k) && k.type === 'StringLiteral' ? 'key' : 'substring');
        visit(v, 'substring');
      }
      return;
    }
    if (!isNode(value)) return;
    switch (value.type) {
      case 'StringLiteral':
        if (typeof value['value'] === 'string') note(value['value'], place);
        return;
      case 'Program':
        body(value['body']);
        return;
      case 'If':
        visit(value['test'], 'substring');
        body(value['body']);
        body(value['alternate']);
        return;
      case 'For':
        visit(value['loopvar'], 'substring');
        visit(value['iterable'], 'substring');
        body(value['body']);
        body(value['defaultBlock']);
        return;
      case 'Set':
      case 'Macro':
      case 'FilterStatement':
      case 'CallStatement':
        for (const key of Object.keys(value)) {
          if (key === 'body') body(value[key]);
          else visit(value[key], 'substring');
        }
        return;
      case 'MemberExpression': {
        visit(value['object'], 'substring');
        const p = value['property'];
        if (value['computed'] === true) visit(p, isNode(p) && p.type === 'StringLiteral' ? 'key' : 'substring');
        return;
      }
      case 'BinaryExpression': {
        const op = operatorOf(value);
        const left = value['left'];
        const right = value['right'];
        if (op === '+' || op === '~') {
          // Joined text keeps the place of the join: printed stays printed; tested is tested as a whole.
          visit(left, place === 'output' ? 'output' : 'substring');
          visit(right, place === 'output' ? 'output' : 'substring');
        } else if (op === '==' || op === '!=') {
          // A role compared with a literal reads nothing of a content.
          const roleTest = isRole(left) || isRole(right);
          for (const side of [left, right]) {
            if (isNode(side) && side.type === 'StringLiteral') visit(side, roleTest ? 'key' : 'equality');
            else visit(side, 'substring');
          }
        } else {
          visit(left, 'substring');
          visit(right, 'substring');
        }
        return;
      }
      case 'CallExpression': {
        const callee = value['callee'];
        const args = Array.isArray(value['args']) ? (value['args'] as unknown[]) : [];
        if (isNode(callee) && callee.type === 'Identifier' && STRIP_CALLS.has(callee['value'] as string)) {
          visit(args[0], 'substring');
          const chars = args[1];
          if (args.length > 2 || (chars !== undefined && !(isNode(chars) && chars.type === 'StringLiteral'))) found.known = false;
          else if (isNode(chars) && typeof chars['value'] === 'string') for (const ch of chars['value']) found.stripped.add(ch.codePointAt(0)!);
          return;
        }
        // Its message is printed only when the render fails, and a failed render has no shape.
        if (isNode(callee) && callee.type === 'Identifier' && callee['value'] === 'raise_exception') return;
        visit(callee, 'substring');
        visit(args, 'substring');
        return;
      }
      default:
        for (const key of Object.keys(value)) {
          // A binary operator is a lexer token, which has a `type` too but never children.
          if (key !== 'operator') visit(value[key], 'substring');
        }
    }
  };
  visit(program, 'substring');
  return found;
}

/** Strings looked for at once, by UTF-16 unit. */
interface TrieNode {
  end: boolean;
  next: Map<number, TrieNode>;
}

function trieOf(words: Iterable<string>): TrieNode {
  const root: TrieNode = { end: false, next: new Map() };
  for (const w of words) {
    let node = root;
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      let child = node.next.get(c);
      if (!child) node.next.set(c, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  return root;
}

function escapeClass(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}

/** What a content must avoid for a template to treat it as it treats a sentinel (see the top of this file). */
export class SafeContent {
  /** False when no content can be known safe (a strip-family call with computed characters). */
  readonly usable: boolean;
  readonly #within: readonly string[];
  readonly #longest: number;
  readonly #trie: TrieNode;
  /** Where a forbidden string may begin: the units that begin one. */
  readonly #starts: RegExp | null;
  readonly #stripped: ReadonlySet<number>;
  /** Proper prefixes of substring-tested literals by their last unit: a content must not end with one. */
  readonly #heads = new Map<number, string[]>();
  /** Proper suffixes of substring-tested literals by their first unit: a content must not start with one. */
  readonly #tails = new Map<number, string[]>();

  /**
   * @param template the template, after its rewrite
   * @param addedTokens the contents of the tokenizer's added tokens
   */
  constructor(template: ChatTemplate, addedTokens: readonly string[]) {
    const literals = literalsOf(template.program);
    this.usable = literals.known;
    const tested = [...literals.equality, ...literals.substring];
    this.#within = tested;
    this.#longest = Math.max(0, ...tested.map((t) => t.length));
    const forbidden = [...tested, ...addedTokens].filter((t) => t.length > 0);
    this.#trie = trieOf(forbidden);
    const firsts = new Set(forbidden.map((t) => t[0]!));
    this.#starts = firsts.size === 0 ? null : new RegExp(`[${[...firsts].map(escapeClass).join('')}]`, 'g');
    this.#stripped = literals.stripped;
    for (const lit of literals.substring) {
      for (let k = 1; k < lit.length; k++) {
        const head = lit.slice(0, k);
        const tail = lit.slice(k);
        push(this.#heads, head.charCodeAt(head.length - 1), head);
        push(this.#tails, tail.charCodeAt(0), tail);
      }
    }
  }

  /** Whether the template treats this content as it treats a sentinel. */
  safe(c: string): boolean {
    if (!this.usable || c.length === 0 || SENTINEL_CHAR.test(c)) return false;
    const first = c.codePointAt(0)!;
    const lastUnit = c.charCodeAt(c.length - 1);
    const pair = lastUnit >= 0xdc00 && lastUnit <= 0xdfff && c.length > 1 && isHighSurrogate(c.charCodeAt(c.length - 2));
    const last = pair ? c.codePointAt(c.length - 2)! : lastUnit;
    if (isPythonSpace(first) || isPythonSpace(last) || this.#stripped.has(first) || this.#stripped.has(last)) return false;
    if (this.#contains(c)) return false;
    if (c.length <= this.#longest && this.#within.some((lit) => lit.includes(c))) return false;
    const heads = this.#heads.get(lastUnit);
    if (heads && heads.some((h) => c.endsWith(h))) return false;
    const tails = this.#tails.get(c.charCodeAt(0));
    if (tails && tails.some((t) => c.startsWith(t))) return false;
    return true;
  }

  /** Whether a forbidden string (a tested literal, an added token) occurs in the content. */
  #contains(c: string): boolean {
    const starts = this.#starts;
    if (starts === null) return false;
    starts.lastIndex = 0;
    for (let m = starts.exec(c); m !== null; m = starts.exec(c)) {
      let node: TrieNode | undefined = this.#trie;
      for (let i = m.index; i < c.length; i++) {
        node = node.next.get(c.charCodeAt(i));
        if (node === undefined) break;
        if (node.end) return true;
      }
    }
    return false;
  }
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function push(map: Map<number, string[]>, key: number, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * A text as a string of its own. A slice would share the render's storage, which the sentinels make two bytes
 * a character: every prompt built from it would be too, and the encoder's expressions run slower on those.
 */
function copied(text: string): string {
  return Array.from(text).join('');
}

/** The segments of a render with sentinels, or undefined when a sentinel is cut, changed or stray. */
function segmentsOf(rendered: string, filled: ReadonlySet<number>): Segment[] | undefined {
  const out: Segment[] = [];
  let prev = 0;
  SLOT.lastIndex = 0;
  for (let m = SLOT.exec(rendered); m !== null; m = SLOT.exec(rendered)) {
    const index = Number([...m[1]!].map((d) => String.fromCharCode(d.charCodeAt(0) - DIGIT0 + 48)).join(''));
    if (!filled.has(index)) return undefined;
    if (prev < m.index) out.push(copied(rendered.slice(prev, m.index)));
    out.push(index);
    prev = m.index + m[0].length;
  }
  if (prev < rendered.length) out.push(copied(rendered.slice(prev)));
  return out.some((s) => typeof s === 'string' && SENTINEL_CHAR.test(s)) ? undefined : out;
}

function fill(segments: readonly Segment[], content: (i: number) => string): string {
  let out = '';
  for (const s of segments) out += typeof s === 'string' ? s : content(s);
  return out;
}

/**
 * Renders chats through their shapes where that is exact, else through the template. `render` is the full
 * render (the template with the generation prompt and the tokenizer's special tokens); its errors are the caller's.
 */
export class ShapedChat {
  readonly stats: ShapeStats = { shape: 0, template: 0 };
  /** Segments by shape; null for a shape that must be rendered every time. */
  readonly #shapes = new Lru<string, Segment[] | null>(1024);

  constructor(
    private readonly render: (messages: ShapedMessage[]) => string,
    private readonly rules: SafeContent,
  ) {}

  /** The rendered prompt, and how it was made. */
  renderChat(messages: ShapedMessage[]): { text: string; how: RenderHow } {
    const segments = this.#segments(messages);
    if (segments) {
      this.stats.shape++;
      return { text: fill(segments, (i) => messages[i]!.content), how: 'shape' };
    }
    this.stats.template++;
    return { text: this.render(messages), how: 'template' };
  }

  /** The segments of this chat's shape when every non-empty content is safe and the shape renders exactly. */
  #segments(messages: ShapedMessage[]): Segment[] | undefined {
    if (!this.rules.usable) return undefined;
    let key = '';
    for (const m of messages) {
      const empty = m.content === '';
      if (!empty && !this.rules.safe(m.content)) return undefined;
      key += `${m.role.length}:${m.role}${empty ? '0' : '1'}`;
    }
    let segments = this.#shapes.get(key);
    if (segments === undefined) {
      segments = this.#learn(messages);
      this.#shapes.set(key, segments);
    }
    return segments ?? undefined;
  }

  /** Renders a shape twice with different sentinels and keeps its segments when both renders agree. */
  #learn(messages: ShapedMessage[]): Segment[] | null {
    const filled = new Set<number>();
    messages.forEach((m, i) => m.content !== '' && filled.add(i));
    const withContents = (content: (i: number) => string): ShapedMessage[] =>
      messages.map((m, i) => ({ role: m.role, content: filled.has(i) ? content(i) : '' }));
    try {
      const segments = segmentsOf(this.render(withContents(sentinel)), filled);
      if (!segments) return null;
      return this.render(withContents(probe)) === fill(segments, probe) ? segments : null;
    } catch {
      // A template that refuses the shape (raise_exception) refuses the chat too, when rendered in full.
      return null;
    }
  }
}
