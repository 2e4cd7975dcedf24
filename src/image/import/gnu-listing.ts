/**
 * GNU tar's own account of what it extracts: `tar -xvv --quoting-style=c`
 * prints one line per member as it handles it. Checking these lines, rather
 * than reading the archive a second time, leaves no room between what is
 * checked and what is extracted (a second reader of tar headers disagreed
 * with GNU tar on pax, Solaris X, old GNU and prefix fields).
 */
import type { Member } from './member-check.js';

/** -vv flags for the extraction. */
export const LISTING_FLAGS = ['-vv', '--quoting-style=c'];

/**
 * The environment of the listing tar. C locale: every byte outside ASCII
 * comes as an octal escape, whatever the caller's locale. TZ set: glibc's
 * localtime() otherwise stats /etc/localtime for every listed member's
 * date (8,200 extra syscalls, ~30 ms, for a Debian tree); we ignore dates.
 */
export const LISTING_ENV: Readonly<Record<string, string>> = { LC_ALL: 'C', TZ: 'UTC' };

const TYPES: Readonly<Record<string, string>> = {
  '-': 'File',
  C: 'ContiguousFile',
  d: 'Directory',
  l: 'SymbolicLink',
  h: 'Link',
  c: 'CharacterDevice',
  b: 'BlockDevice',
  p: 'FIFO',
};

const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
// Mode (an 11th column with --xattrs), owner, size or major,minor, a date
// whose width varies (a year past 9999 widens it, and every later line's
// padding; an mtime gmtime cannot take is a bare number: no '"' either way),
// the quoted name, and a link target.
const LINE = new RegExp(`^(\\S)\\S{9}\\S? +\\d+/\\d+ +(\\S+) [^"]* ${QUOTED}(?: (->|link to) ${QUOTED})?$`);
// Lines about no member: directories tar makes for a member that comes
// without its parents, and (--xattrs) each extended attribute of the member above.
const NOTE = new RegExp(`^(?:\\S{10,11} +Creating directory: ${QUOTED}|  x: \\d+ .*)$`);

/** A device's "major,minor" in the size column. */
const DEVICE_NUMBERS = /^(\d+),(\d+)$/;

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, f: 12, v: 11, b: 8, a: 7, '\\': 92, '"': 34, '?': 63, "'": 39 };

/**
 * Undoes --quoting-style=c escapes, into a byte string (one character per
 * byte, latin1): distinct names stay distinct (decoding the bytes as UTF-8
 * would map every invalid byte to U+FFFD, and '\\377' and '\\376' to the
 * same name). Most names have no escapes and come back as they are (this
 * runs once per member; a byte-wise decode of every name cost 90 ms of a
 * 560 ms import). With LC_ALL=C, tar escapes every byte outside ASCII.
 */
export function unquote(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const pushText = (text: string): void => {
    for (const b of Buffer.from(text, 'latin1')) bytes.push(b);
  };
  let i = 0;
  while (i < s.length) {
    const backslash = s.indexOf('\\', i);
    if (backslash < 0) {
      pushText(s.slice(i));
      break;
    }
    pushText(s.slice(i, backslash));
    const n = s[backslash + 1] ?? '';
    i = backslash + 2;
    if (n in SIMPLE_ESCAPES) bytes.push(SIMPLE_ESCAPES[n]!);
    else if (n >= '0' && n <= '7') {
      let oct = n;
      while (oct.length < 3 && s[i]! >= '0' && s[i]! <= '7') oct += s[i++];
      bytes.push(parseInt(oct, 8));
    } else pushText(n);
  }
  return Buffer.from(bytes).toString('latin1');
}

/** A byte-string path as a person reads it (UTF-8), for messages. */
export function displayPath(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * A member from one listing line; 'note' for a line about no member
 * ("Creating directory: ..."); undefined for a line not understood, which
 * the caller must refuse: a member it cannot read is a member not checked.
 */
export function parseListingLine(line: string): Member | 'note' | undefined {
  const m = LINE.exec(line);
  if (!m) return line === '' || NOTE.test(line) ? 'note' : undefined;
  // Indexes, not destructuring: this runs once per member, mostly before V8
  // has compiled it, where destructuring walks the array's iterator.
  const t = m[1]!;
  const member: Member = { path: unquote(m[3]!), type: TYPES[t] ?? `unknown type '${t}'` };
  if (m[4]) member.linkpath = unquote(m[5]!);
  if (t === 'c' || t === 'b') {
    const dev = DEVICE_NUMBERS.exec(m[2]!);
    if (dev) {
      member.devmajor = Number(dev[1]);
      member.devminor = Number(dev[2]);
    }
  }
  return member;
}

/** GNU tar's own refusals on stderr, as "member: reason". */
export function parseTarComplaint(line: string): string | undefined {
  const m = new RegExp(`^tar: ${QUOTED}: Member name contains '\\.\\.'$`).exec(line);
  if (m) return `member '${displayPath(unquote(m[1]!))}': member name with '..'`;
  // GNU tar strips leading "../" from link targets before it reports them, so
  // a link out of the tree shows up as a link to a missing file.
  const h = new RegExp(`^tar: ${QUOTED}: Cannot hard link to (.*?): `).exec(line);
  if (h) return `member '${displayPath(unquote(h[1]!))}': hard link to ${h[2]!.replace(/^[‘"']|[’"']$/g, '')}, outside the archive or not in it`;
  return undefined;
}
