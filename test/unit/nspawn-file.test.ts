/** The syntax of .nspawn files as systemd's conf-parser reads it: src/settings/nspawn-file.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNspawnSyntax } from '../../src/settings/nspawn-file.js';

const SECTIONS = ['Exec', 'Files', 'Network'];
const parse = (text: string) => parseNspawnSyntax(text, SECTIONS);

describe('parseNspawnSyntax', () => {
  it('reads sections and Key=Value lines, blanks stripped around key and value', () => {
    const r = parse('[Exec]\n  Boot = yes  \nEnvironment=A=1 B=2\n\n[Files]\nBind=/a:/b\n');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.assignments, [
      { line: 2, section: 'Exec', key: 'Boot', value: 'yes' },
      { line: 3, section: 'Exec', key: 'Environment', value: 'A=1 B=2' },
      { line: 6, section: 'Files', key: 'Bind', value: '/a:/b' },
    ]);
  });

  it("skips comments ('#', ';', also indented) and empty lines", () => {
    const r = parse('# c\n; c\n   # c\n[Exec]\n\n\t; x=y\nUser=u\n');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.assignments, [{ line: 7, section: 'Exec', key: 'User', value: 'u' }]);
  });

  it('joins a line ending in a backslash with the next, reported at the last line; comments inside are dropped', () => {
    const r = parse('[Exec]\nParameters=a \\\n# skipped\n  b \\\n c\n');
    assert.deepEqual(r.assignments, [{ line: 5, section: 'Exec', key: 'Parameters', value: 'a    b   c' }]);
  });

  it('a comment ending in a backslash continues nothing; an escaped backslash is no continuation', () => {
    const r = parse('[Exec]\n# x \\\nUser=a\\\\\nHostname=h\n');
    assert.deepEqual(
      r.assignments.map((a) => [a.key, a.value]),
      [
        ['User', 'a\\\\'],
        ['Hostname', 'h'],
      ],
    );
  });

  it('takes CRLF, CR and NUL as line ends, and skips a byte order mark', () => {
    const r = parse('\uFEFF[Exec]\r\nUser=a\rHostname=h\0Boot=no');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      r.assignments.map((a) => [a.line, a.key, a.value]),
      [
        [2, 'User', 'a'],
        [3, 'Hostname', 'h'],
        [4, 'Boot', 'no'],
      ],
    );
  });

  it('warns once at an unknown section and skips its keys; "X-" sections silently', () => {
    const r = parse('[Foo]\nA=1\nB=2\n[X-Mine]\nC=3\n[Exec]\nUser=u\n');
    assert.deepEqual(r.warnings, [{ line: 1, message: 'unknown section [Foo], ignoring it' }]);
    assert.deepEqual(r.assignments, [{ line: 7, section: 'Exec', key: 'User', value: 'u' }]);
  });

  it('warns at a line without "=", an assignment before any section, and a broken header; the rest applies', () => {
    const r = parse('User=early\n[Exec]\njust words\n[Exec\nUser=skipped\n[Files]\nReadOnly=yes\n');
    assert.deepEqual(
      r.warnings.map((w) => w.line),
      [1, 3, 4],
    );
    assert.match(r.warnings[0]!.message, /outside of any section/);
    assert.match(r.warnings[1]!.message, /missing '='/);
    assert.match(r.warnings[2]!.message, /invalid section header/);
    assert.deepEqual(r.assignments, [{ line: 7, section: 'Files', key: 'ReadOnly', value: 'yes' }]);
  });

  it('keeps everything after the first "=" in the value, and an empty value', () => {
    const r = parse('[Exec]\nEnvironment=A=b=c\nUser=\n');
    assert.deepEqual(
      r.assignments.map((a) => [a.key, a.value]),
      [
        ['Environment', 'A=b=c'],
        ['User', ''],
      ],
    );
  });

  it('parses a continuation still open at the end of the file', () => {
    const r = parse('[Exec]\nUser=a\\');
    assert.deepEqual(r.assignments, [{ line: 2, section: 'Exec', key: 'User', value: 'a' }]);
  });
});
