/**
 * The syntax of a .nspawn file, as systemd's conf-parser reads it
 * (systemd.syntax(7)): [Section] headers, Key=Value lines, '#' and ';'
 * comments, a trailing backslash continuing a line. Nothing here knows the
 * keys (nspawn-keys.ts does); this only turns text into assignments.
 *
 * Bad lines are skipped with one warning each and the rest of the file
 * still applies, as in nspawn. Never throws.
 */

export interface Assignment {
  /** The line the assignment ends on (a continued line is reported at its last line, as systemd does). */
  line: number;
  section: string;
  key: string;
  value: string;
}

export interface SyntaxWarning {
  line: number;
  message: string;
}

export interface ParsedSyntax {
  assignments: Assignment[];
  warnings: SyntaxWarning[];
}

/** A line whose first non-blank character is '#' or ';'. */
const isComment = (line: string): boolean => /^[ \t\n\r]*[#;]/.test(line);
/** systemd's WHITESPACE. */
const WHITESPACE = /^[ \t\n\r]+|[ \t\n\r]+$/g;
/** read_line(): LF, CR, CRLF and NUL all end a line. */
const LINE_BREAK = /\r\n|\r|\n|\0/;

const strip = (s: string): string => s.replace(WHITESPACE, '');

/** Whether the line ends in an unescaped backslash (conf-parser's continuation rule). */
function endsInContinuation(line: string): boolean {
  let escaped = false;
  for (const ch of line) escaped = escaped ? false : ch === '\\';
  return escaped;
}

/**
 * Reads TEXT with KNOWN_SECTIONS. Keys in other sections are skipped (one
 * warning at the header); sections and keys whose names begin with "X-" are
 * extensions and skipped silently, as systemd does.
 */
export function parseNspawnSyntax(text: string, knownSections: readonly string[]): ParsedSyntax {
  const assignments: Assignment[] = [];
  const warnings: SyntaxWarning[] = [];
  // undefined: before any header; null: inside a section we skip.
  let section: string | undefined | null;
  let continuation: string | undefined;

  const parseLine = (raw: string, line: number): void => {
    const l = strip(raw);
    if (l === '' || isComment(l)) return;
    if (l.startsWith('[')) {
      if (!l.endsWith(']') || l.length < 3) {
        // systemd stops reading the file here; skipping the section instead keeps the rest of the file in force.
        warnings.push({ line, message: 'invalid section header, ignoring the lines up to the next section' });
        section = null;
        return;
      }
      const name = l.slice(1, -1);
      if (knownSections.includes(name)) section = name;
      else {
        section = null;
        if (!name.startsWith('X-')) warnings.push({ line, message: `unknown section [${name}], ignoring it` });
      }
      return;
    }
    if (section === null) return;
    if (section === undefined) {
      warnings.push({ line, message: 'assignment outside of any section, ignoring' });
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) {
      warnings.push({ line, message: "not a Key=Value line (missing '='), ignoring" });
      return;
    }
    assignments.push({ line, section, key: strip(l.slice(0, eq)), value: strip(l.slice(eq + 1)) });
  };

  // A UTF-8 byte order mark is not part of the first line.
  const lines = text.replace(/^\uFEFF/, '').split(LINE_BREAK);
  // A final line break does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    // Comment lines are dropped first, also inside a continued line (and one ending in '\\' continues nothing), as systemd does.
    if (isComment(raw)) return;
    const joined = continuation === undefined ? raw : continuation + raw;
    if (endsInContinuation(joined)) {
      continuation = joined.slice(0, -1) + ' ';
      return;
    }
    continuation = undefined;
    parseLine(joined, line);
  });
  if (continuation !== undefined) parseLine(continuation, lines.length);
  return { assignments, warnings };
}
