// A chat template rendered as vLLM renders it. vLLM (through transformers) runs chat templates with Python's
// jinja2, so the prompt it counts is shaped by Python's string methods. @huggingface/jinja runs them in
// JavaScript and gets two of those wrong where real templates reach them: `s.strip(chars)`, `s.lstrip(chars)`
// and `s.rstrip(chars)` ignore `chars` and strip all whitespace (Qwen3 calls `lstrip('\n')` on assistant turns
// that hold <think> blocks), and the bare forms and the `trim` filter (Llama 3, Gemma 3) strip JavaScript's
// whitespace set, which is not Python's (U+FEFF is stripped, U+001C..U+001F and U+0085 are kept). The library
// exports its parsed tree and nothing to override builtins with, so after parsing those calls are rewritten to
// call functions with Python's semantics, passed in with every render. The tree is rewritten once, at load.
import { Template, parse, tokenize } from '@huggingface/jinja';

/** Which ends of a string a strip-family method removes characters from. */
export type StripEnds = 'both' | 'start' | 'end';

/**
 * Python's `str.isspace()` code points: what `str.strip()` removes without an argument. Neither a subset nor a
 * superset of JavaScript's `trim()` set (U+FEFF is not space to Python; the separators U+001C..U+001F and U+0085 are).
 */
export function isPythonSpace(cp: number): boolean {
  if (cp <= 0x20) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
  if (cp < 0x85) return false;
  return (
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/**
 * Python's `str.strip(chars)`, `lstrip(chars)` and `rstrip(chars)`: `chars` null or undefined means whitespace
 * as Python defines it; otherwise every code point in `chars` (a set, not a prefix or suffix) is removed from
 * the chosen ends, and '' removes nothing. Code points, not UTF-16 units: an astral character in `chars` never
 * strips half of another one.
 */
export function pythonStrip(text: string, chars: string | null | undefined, ends: StripEnds): string {
  let strip: (cp: number) => boolean;
  if (chars === null || chars === undefined) strip = isPythonSpace;
  else if (chars === '') return text;
  else {
    const set = new Set<number>();
    for (const ch of chars) set.add(ch.codePointAt(0)!);
    strip = (cp) => set.has(cp);
  }
  let start = 0;
  let end = text.length;
  if (ends !== 'end') {
    while (start < end) {
      const cp = text.codePointAt(start)!;
      if (!strip(cp)) break;
      start += cp > 0xffff ? 2 : 1;
    }
  }
  if (ends !== 'start') {
    while (end > start) {
      const low = text.charCodeAt(end - 1);
      const pair = low >= 0xdc00 && low <= 0xdfff && end - 2 >= start && isHighSurrogate(text.charCodeAt(end - 2));
      const cp = pair ? text.codePointAt(end - 2)! : low;
      if (!strip(cp)) break;
      end -= pair ? 2 : 1;
    }
  }
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

// Names the rewritten calls look up. They are not identifiers a template can spell, so no template variable
// can shadow them and no template can reach them other than through the rewrite.
const STRIP = 'python str.strip';
const LSTRIP = 'python str.lstrip';
const RSTRIP = 'python str.rstrip';
const TRIM = 'jinja2 filter trim';

/** The functions that rewritten strip-family calls call: (text, chars?) with Python's semantics. */
export const STRIP_CALLS: ReadonlySet<string> = new Set([STRIP, LSTRIP, RSTRIP, TRIM]);

/** The function each rewritten method call goes to, by method name. */
const METHODS = new Map([
  ['strip', STRIP],
  ['lstrip', LSTRIP],
  ['rstrip', RSTRIP],
]);

/** How the library passes keyword arguments to a plain function: a Map of runtime values as the last argument. */
function isKeywords(arg: unknown): arg is Map<string, { value: unknown }> {
  return arg instanceof Map;
}

function charsArgument(what: string, chars: unknown): string | null | undefined {
  if (chars === null || chars === undefined || typeof chars === 'string') return chars;
  throw new TypeError(`${what} arg must be None or str`);
}

/** A string method as a plain function of (self, ...args), with Python's argument rules. */
function stringMethod(method: string, ends: StripEnds) {
  return (self: unknown, ...args: unknown[]): string => {
    if (typeof self !== 'string') throw new TypeError(`'${describe(self)}' has no method '${method}'`);
    if (args.some(isKeywords)) throw new TypeError(`${method}() takes no keyword arguments`);
    if (args.length > 1) throw new TypeError(`${method}() takes at most 1 argument (${args.length} given)`);
    return pythonStrip(self, charsArgument(method, args[0]), ends);
  };
}

/** jinja2's `trim(value, chars=None)`: `value.strip(chars)`. */
function trimFilter(value: unknown, ...args: unknown[]): string {
  if (typeof value !== 'string') throw new TypeError(`the trim filter needs a string, not '${describe(value)}'`);
  let chars: unknown = args[0];
  const last = args.at(-1);
  if (isKeywords(last)) {
    if (args.length > 1) throw new TypeError('trim() got chars twice');
    chars = last.get('chars')?.value;
  }
  return pythonStrip(value, charsArgument('trim', chars), 'both');
}

function describe(value: unknown): string {
  if (value === undefined) return 'Undefined';
  if (value === null) return 'NoneType';
  return typeof value;
}

const FUNCTIONS: Record<string, unknown> = {
  [STRIP]: stringMethod('strip', 'both'),
  [LSTRIP]: stringMethod('lstrip', 'start'),
  [RSTRIP]: stringMethod('rstrip', 'end'),
  [TRIM]: trimFilter,
};

/** A node of the library's parsed tree: every node class carries its kind in `type`. */
interface Node {
  type: string;
  [field: string]: unknown;
}

interface IdentifierNode extends Node {
  value: string;
}

interface CallNode extends Node {
  callee: Node;
  args: Node[];
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

function isIdentifier(node: unknown): node is IdentifierNode {
  return isNode(node) && node.type === 'Identifier' && typeof node['value'] === 'string';
}

function isCall(node: unknown): node is CallNode {
  return isNode(node) && node.type === 'CallExpression' && isNode(node['callee']) && Array.isArray(node['args']);
}

/**
 * New nodes must be instances of the library's own classes (its macro analysis skips anything that is not),
 * and those classes are not exported: a parsed `f(x)` lends its prototypes.
 */
const SAMPLE = (() => {
  const call = parse(tokenize('{{ f(x) }}')).body[0];
  if (!isCall(call) || !isIdentifier(call.callee)) throw new Error('@huggingface/jinja parses calls in an unknown shape');
  return { call: Object.getPrototypeOf(call) as object, identifier: Object.getPrototypeOf(call.callee) as object };
})();

function identifier(value: string): IdentifierNode {
  return Object.assign(Object.create(SAMPLE.identifier) as IdentifierNode, { type: 'Identifier', value });
}

function call(name: string, args: Node[]): CallNode {
  return Object.assign(Object.create(SAMPLE.call) as CallNode, { type: 'CallExpression', callee: identifier(name), args });
}

/** The name in `x.name` or `x['name']` (jinja2 finds a str method either way), if it is spelled out. */
function memberName(member: Node): string | undefined {
  const property = member['property'];
  if (!isNode(property) || typeof property['value'] !== 'string') return undefined;
  if (member['computed'] === false && property.type === 'Identifier') return property['value'];
  if (member['computed'] === true && property.type === 'StringLiteral') return property['value'];
  return undefined;
}

/**
 * The replacement of one node, or the node itself: `s.strip(...)` and `s | trim(...)` become calls of FUNCTIONS;
 * `used` collects the names called.
 */
function rewriteNode(node: Node, used: Set<string>): Node {
  if (isCall(node)) {
    const callee = node.callee;
    const target = callee.type === 'MemberExpression' ? METHODS.get(memberName(callee) ?? '') : undefined;
    if (target && isNode(callee['object'])) {
      used.add(target);
      return call(target, [callee['object'], ...node.args]);
    }
  }
  if (node.type === 'FilterExpression' && isNode(node['operand'])) {
    const filter = node['filter'];
    const args = isIdentifier(filter) && filter.value === 'trim' ? [] : isCall(filter) && isIdentifier(filter.callee) && filter.callee.value === 'trim' ? filter.args : undefined;
    if (args) {
      used.add(TRIM);
      return call(TRIM, [node['operand'], ...args]);
    }
  }
  return node;
}

/** Rewrites a subtree in place, children first, and returns what replaces its root. */
function rewrite(value: unknown, used: Set<string>): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = rewrite(value[i], used);
    return value;
  }
  if (value instanceof Map) {
    // ObjectLiteral keeps its entries in a Map keyed by expression nodes.
    const entries = [...value.entries()].map(([k, v]) => [rewrite(k, used), rewrite(v, used)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
    return value;
  }
  if (!isNode(value)) return value;
  for (const key of Object.keys(value)) {
    // A binary operator is a lexer token, which has a `type` too but never children.
    if (key === 'operator') continue;
    value[key] = rewrite(value[key], used);
  }
  return rewriteNode(value, used);
}

/** A chat template that renders as Python's jinja2 would, where the library and jinja2 differ on what templates use. */
export class ChatTemplate {
  readonly #template: Template;
  /** The functions the rewritten template calls: only those are passed, as each costs a conversion per render. */
  readonly #functions: Record<string, unknown> = {};

  constructor(source: string) {
    this.#template = new Template(source);
    const used = new Set<string>();
    rewrite(this.#template.parsed, used);
    for (const name of used) this.#functions[name] = FUNCTIONS[name];
  }

  /** The parsed tree after the rewrite (shared: never modify), for analyses of what the template does. */
  get program(): unknown {
    return this.#template.parsed;
  }

  render(context: Record<string, unknown>): string {
    return this.#template.render({ ...context, ...this.#functions });
  }
}
