/** Shared helpers of the unit tests (no test cases here). */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlanFacts } from '../../src/plan/build.js';
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

/** mulberry32: a small seeded generator, so fuzz inputs are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SAMPLE_UUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

/** Facts of a plan for a tree at /var/lib/machines/deb, as prepare.ts would find them on a Debian host. */
export function samplePlanFacts(over: Partial<PlanFacts> = {}): PlanFacts {
  return {
    root: '/var/lib/machines/deb',
    rootId: { dev: '66306', ino: '2' },
    machineName: 'deb',
    uuid: SAMPLE_UUID,
    user: { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh', groups: [] },
    exec: '/bin/sh',
    argv: ['/bin/sh'],
    console: 'interactive',
    defaultCwd: '/root',
    hostOsReleasePath: '/etc/os-release',
    hostOsRelease: { ID: 'debian', VERSION_ID: '12', NAME: 'Debian GNU/Linux' },
    hostTerm: 'xterm-256color',
    cgroupNamespace: true,
    cgroupOps: [],
    ...over,
  };
}
