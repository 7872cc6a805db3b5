// Python's strip family as chat templates reach it (src/model/chatTemplate.ts): the function against answers
// Python 3 gave and against a code-point model of its definition, then the rewritten templates end to end.
// Python itself renders real templates in test/chat-template-oracle.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Template } from '@huggingface/jinja';
import { ChatTemplate, pythonStrip, type StripEnds } from '../src/model/chatTemplate.js';

// [text, chars, text.strip(chars), text.lstrip(chars), text.rstrip(chars)] as CPython 3 printed them.
const PYTHON: Array<[string, string | null, string, string, string]> = [
  [' \nx\n ', null, 'x', 'x\n ', ' \nx'],
  [' \nx', '\n', ' \nx', ' \nx', ' \nx'],
  ['\n\n x \n\n', '\n', ' x ', ' x \n\n', '\n\n x '],
  ['r\n \n', '\n', 'r\n ', 'r\n \n', 'r\n '],
  ['xx', '', 'xx', 'xx', 'xx'],
  ['abcxa', 'ax', 'bc', 'bcxa', 'abc'],
  ['abcba', 'ba', 'c', 'cba', 'abc'],
  ['aaa', 'a', '', '', ''],
  ['', null, '', '', ''],
  ['', 'a', '', '', ''],
  ['\x1c\x1d\x1e\x1f\x85 x \u3000\u2028', null, 'x', 'x \u3000\u2028', '\x1c\x1d\x1e\x1f\x85 x'],
  ['\ufeffx\ufeff', null, '\ufeffx\ufeff', '\ufeffx\ufeff', '\ufeffx\ufeff'],
  ['\u00a0\u1680\u2000\u200a\u202f\u205f\u2029x\t\x0b\x0c\r', null, 'x', 'x\t\x0b\x0c\r', '\u00a0\u1680\u2000\u200a\u202f\u205f\u2029x'],
  ['\u200bx\u200b', null, '\u200bx\u200b', '\u200bx\u200b', '\u200bx\u200b'],
  ['😀x😀', '😀', 'x', 'x😀', '😀x'],
  // U+1F601 shares its high surrogate with U+1F600: stripping by UTF-16 unit would cut it in half.
  ['😁x😁', '😀', '😁x😁', '😁x😁', '😁x😁'],
  ['<think>\n\n', '<>\n', 'think', 'think>\n\n', '<think'],
];

// str.isspace() in CPython 3, listed by hand from its own output.
const PYTHON_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python's definition, spelled out over code points: drop members of the set from the chosen ends. */
function model(text: string, chars: string | null | undefined, ends: StripEnds): string {
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  const set = chars === null || chars === undefined ? PYTHON_SPACE : new Set(Array.from(chars, (c) => c.codePointAt(0)!));
  let a = 0;
  let b = cps.length;
  if (ends !== 'end') while (a < b && set.has(cps[a]!)) a++;
  if (ends !== 'start') while (b > a && set.has(cps[b - 1]!)) b--;
  return String.fromCodePoint(...cps.slice(a, b));
}

const EDGE = ['\n', ' ', '\t', '\r', '\x1c', '\x85', '\ufeff', '\u00a0', '\u2028', '\u3000', '\u200b', 'a', 'b', '😀', '😁', '中', '<', '>'];
const edgeText = fc.array(fc.constantFrom(...EDGE), { maxLength: 8 }).map((a) => a.join(''));
const text = fc.tuple(edgeText, fc.string({ unit: 'grapheme', maxLength: 6 }), edgeText).map(([a, b, c]) => a + b + c);
const chars = fc.oneof(fc.constant(null), fc.constant(undefined), edgeText);
const ends = fc.constantFrom<StripEnds>('both', 'start', 'end');

describe('pythonStrip', () => {
  it('gives what CPython gives for strip, lstrip and rstrip, with and without chars', () => {
    for (const [t, c, both, start, end] of PYTHON) {
      const label = JSON.stringify([t, c]);
      assert.equal(pythonStrip(t, c, 'both'), both, `strip ${label}`);
      assert.equal(pythonStrip(t, c, 'start'), start, `lstrip ${label}`);
      assert.equal(pythonStrip(t, c, 'end'), end, `rstrip ${label}`);
    }
  });

  it('treats undefined (an omitted argument) as None', () => {
    assert.equal(pythonStrip(' \x85x\x1f ', undefined, 'both'), 'x');
  });

  it('matches Python\'s definition over code points on random text and character sets', () => {
    fc.assert(
      fc.property(text, chars, ends, (t, c, e) => pythonStrip(t, c, e) === model(t, c, e)),
      { seed: 20261130, numRuns: 2000 },
    );
  });

  it('never splits a surrogate pair, even next to a lone surrogate', () => {
    assert.equal(pythonStrip('\ud83d😀\ude00', '\ud83d', 'start'), '😀\ude00');
    assert.equal(pythonStrip('\ud83d😀\ude00', '\ude00', 'end'), '\ud83d😀');
  });
});

// Every expected rendering below is what jinja2 3.1.6 (sandboxed, as transformers runs it) printed.
const render = (source: string, context: Record<string, unknown> = {}): string => new ChatTemplate(source).render(context);

describe('ChatTemplate', () => {
  it('sends method calls with an argument to Python semantics (the library strips all whitespace)', () => {
    const source = "{{ s.lstrip('\\n') }}|{{ s.rstrip('\\n') }}|{{ s.strip('\\n') }}";
    const s = ' \nx\n ';
    assert.equal(new Template(source).render({ s }), 'x\n | \nx|x', 'the library as it is: if this changes, the rewrite may be unneeded');
    assert.equal(render(source, { s }), ' \nx\n | \nx\n | \nx\n ');
  });

  it('sends method calls without an argument and the trim filter to Python\'s whitespace', () => {
    const s = '\ufeff\x1c x \x85';
    const source = '[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ s | trim }}]';
    assert.equal(new Template(source).render({ s }), '[\x1c x \x85][\x1c x \x85][\ufeff\x1c x \x85][\x1c x \x85]', 'the library as it is');
    assert.equal(render(source, { s }), '[\ufeff\x1c x][\ufeff\x1c x \x85][\ufeff\x1c x][\ufeff\x1c x]');
  });

  it('follows jinja2\'s trim(chars) positionally and by keyword, and s[\'strip\'](chars)', () => {
    const s = 'xx a xx';
    assert.equal(render("{{ s | trim('x') }}|{{ s | trim(chars='x') }}|{{ s['strip']('x') }}", { s }), ' a | a | a ');
  });

  it('rewrites calls wherever they are: in sets, macros, loops, conditions, object literals and filters\' operands', () => {
    const source = [
      "{%- macro m(t) %}{{ t.strip('-') }}{% endmacro -%}",
      "{%- set ns = namespace(v=s.lstrip('-')) -%}",
      "{%- for w in s.split(' ') if w.rstrip('-') %}<{{ m(w) }}>{% endfor -%}",
      "{%- if s.strip('-') == s %}same{% else %}[{{ ns.v }}]{% endif -%}",
      "{{ {'k': s.rstrip('-')}['k'] | upper }}",
    ].join('');
    assert.equal(render(source, { s: '--a- b-- --' }), '<a><b>[a- b-- --]--A- B-- ');
  });

  it('raises where Python raises: a non-string, a keyword argument to a str method, too many arguments', () => {
    assert.throws(() => render("{{ n.strip('x') }}", { n: 5 }), /no method 'strip'/);
    assert.throws(() => render("{{ s.strip(chars='x') }}", { s: 'x' }), /keyword/);
    assert.throws(() => render("{{ s.lstrip('x', 'y') }}", { s: 'x' }), /at most 1 argument/);
    assert.throws(() => render('{{ s.rstrip(3) }}', { s: 'x' }), /None or str/);
  });

  it('cannot be shadowed by a template variable of the same method name', () => {
    assert.equal(render("{% set strip = 'no' %}{{ s.strip('x') }}{{ strip }}", { s: 'xyx' }), 'yno');
  });
});
