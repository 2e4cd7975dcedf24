/** Shared helpers of the unit tests (no test cases here). */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/util/errors.js';

/** The checkout's top directory, from dist/test/unit/helpers.js. */
export const TOP = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const HELPER = `${TOP}/native/tsnspawn-helper`;

/** Asserts that fn throws a UserError whose message contains every fragment. */
export function throwsUserError(fn: () => unknown, ...fragments: string[]): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkUserError(caught, fragments);
}

/** The same for an async function or a promise. */
export async function rejectsUserError(fn: () => unknown, ...fragments: string[]): Promise<UserError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return checkUserError(caught, fragments);
}

function checkUserError(caught: unknown, fragments: string[]): UserError {
  assert.ok(caught !== undefined, `expected a UserError mentioning ${JSON.stringify(fragments)}, but nothing was thrown`);
  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`);
  for (const f of fragments)
    assert.ok(caught.message.includes(f), `message ${JSON.stringify(caught.message)} should mention ${JSON.stringify(f)}`);
  assert.ok(!caught.message.includes('\n'), `a UserError is one line: ${JSON.stringify(caught.message)}`);
  return caught;
}

/** A scratch directory under the system's temp dir; remove() deletes it. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsnspawn-unit-'));

  /** A fresh empty tree directory inside the scratch dir. */
  tree(name: string): Tree {
    const t = new Tree(join(this.dir, name));
    mkdirSync(t.root, { recursive: true });
    return t;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Builds files inside a root; all paths are given as seen from inside. */
export class Tree {
  constructor(readonly root: string) {}

  host(inner: string): string {
    return join(this.root, inner);
  }

  dir(inner: string): this {
    mkdirSync(this.host(inner), { recursive: true });
    return this;
  }

  file(inner: string, content = '', mode = 0o644): this {
    mkdirSync(dirname(this.host(inner)), { recursive: true });
    writeFileSync(this.host(inner), content);
    chmodSync(this.host(inner), mode);
    return this;
  }

  link(inner: string, target: string): this {
    mkdirSync(dirname(this.host(inner)), { recursive: true });
    symlinkSync(target, this.host(inner));
    return this;
  }
}
