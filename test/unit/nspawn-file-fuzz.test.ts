/**
 * Fuzzing the .nspawn parser (as systemd fuzzes its own, fuzz-nspawn-settings.c):
 * thousands of random and mutated files, a fixed count from a fixed seed
 * (reproducible; no time limit). Whatever the text, settingsFromFile returns
 * values and at most one warning a line, and merging the result never throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSettings } from '../../src/settings/model.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { mergeSettings } from '../../src/settings/merge.js';
import { NSPAWN_KEYS, NSPAWN_KEYS_NOT_SUPPORTED } from '../../src/settings/nspawn-keys.js';
import { rng } from './helpers.js';

const RANDOM_FILES = 3000;
const MUTATED_FILES = 3000;


const KEY_NAMES = [...NSPAWN_KEYS.map((k) => k.name), ...Object.keys(NSPAWN_KEYS_NOT_SUPPORTED)];
const VALUES = ['yes', 'no', '', '/', '/srv:/srv', '+/x:/y:norbind', 'a:b:c:d', 'A=1 "B=2 3"', '"', "'", '\\', 'CAP_SYS_ADMIN all', 'SIGRTMIN+3', '0123456789abcdef0123456789abcdef', 'state', 'try-guest', '-', '..', '/a/../b', '=', '==', '\u0000', '\uFEFF', '☃', 'x'.repeat(300)];
const FRAGMENTS = ['[Exec]', '[Files]', '[Network]', '[X-Y]', '[', ']', '[]', '#', ';', '\\', '\n', '\r', '\r\n', '\0', '=', ' ', '\t', '"', "'", ':', '+', '/', 'Bind', 'Boot'];

/** Lines the parser might see: sections, known keys with odd values, noise. */
function randomFile(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const lines: string[] = [];
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.15) lines.push(`[${pick(['Exec', 'Files', 'Network', 'Foo', 'X-A', ''])}]`);
    else if (kind < 0.7) {
      const [section, key] = pick(KEY_NAMES).split('.');
      if (r() < 0.3) lines.push(`[${section}]`);
      lines.push(`${key}=${pick(VALUES)}${r() < 0.1 ? '\\' : ''}`);
    } else {
      let noise = '';
      const m = Math.floor(r() * 12);
      for (let j = 0; j < m; j++) noise += r() < 0.5 ? pick(FRAGMENTS) : String.fromCharCode(Math.floor(r() * 0x2ff));
      lines.push(noise);
    }
  }
  return lines.join(pick(['\n', '\r\n', '\r', '\n\n']));
}

/** A valid file with bytes flipped, cut, duplicated or spliced. */
const SEED_FILE = `[Exec]
Boot=yes
Parameters=--unit=multi-user.target "a b"
Environment=A=1 B=2
Hostname=web
Capability=CAP_NET_ADMIN
DropCapability=CAP_CHOWN
KillSignal=SIGRTMIN+3
MachineID=0123456789abcdef0123456789abcdef
# comment
[Files]
Bind=/srv:/srv:norbind
BindReadOnly=+/etc:/mnt/etc
TemporaryFileSystem=/tmp:size=10M
Overlay=/a:/b:/c
ReadOnly=yes
Volatile=state
[Network]
Private=yes
`;

function mutate(r: () => number, text: string): string {
  let t = text;
  const steps = 1 + Math.floor(r() * 6);
  for (let i = 0; i < steps; i++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.3) t = t.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + t.slice(at + 1);
    else if (op < 0.5) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 20));
    else if (op < 0.7) t = t.slice(0, at) + FRAGMENTS[Math.floor(r() * FRAGMENTS.length)] + t.slice(at);
    else if (op < 0.85) {
      const from = Math.floor(r() * t.length);
      t = t.slice(0, at) + t.slice(from, from + Math.floor(r() * 40)) + t.slice(at);
    } else t = t.slice(0, at);
  }
  return t;
}

/** Lines as the parser counts them (LF, CR, CRLF, NUL). */
const lineCount = (text: string): number => text.split(/\r\n|\r|\n|\0/).length;

function check(text: string): void {
  const f = settingsFromFile('/fuzz.nspawn', text);
  const perLine = new Map<string, number>();
  for (const w of f.warnings) {
    const m = /^\/fuzz\.nspawn:(\d+): /.exec(w);
    assert.ok(m, `a warning names the file and line: ${JSON.stringify(w)}`);
    assert.ok(Number(m[1]) >= 1 && Number(m[1]) <= lineCount(text), `line ${m[1]} is in the file`);
    assert.ok(!w.includes('\n'), 'a warning is one line');
    perLine.set(m[1]!, (perLine.get(m[1]!) ?? 0) + 1);
  }
  for (const [line, n] of perLine) assert.equal(n, 1, `line ${line} got ${n} warnings in ${JSON.stringify(text)}`);
  for (const trusted of [true, false]) {
    const merged = mergeSettings(defaultSettings(), f, { trusted, override: false });
    assert.ok(merged.warnings.length <= 1, 'at most one line about trust');
  }
}

describe('fuzzing the .nspawn parser', () => {
  it(`${RANDOM_FILES} random files`, () => {
    const r = rng(0x5eed);
    for (let i = 0; i < RANDOM_FILES; i++) check(randomFile(r));
  });

  it(`${MUTATED_FILES} mutations of a valid file`, () => {
    const r = rng(0xf11e);
    for (let i = 0; i < MUTATED_FILES; i++) check(mutate(r, SEED_FILE));
  });

  it('random bytes decoded as the reader does (UTF-8, invalid bytes replaced)', () => {
    const r = rng(7);
    for (let i = 0; i < 1000; i++) {
      const bytes = Buffer.alloc(Math.floor(r() * 400));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(r() * 256);
      check(bytes.toString('utf8'));
    }
  });
});
