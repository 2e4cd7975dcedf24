/** The machine and the programs a result was measured with. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { NSPAWN, TOP } from './env.js';

export interface Machine {
  nproc: number;
  cpu: string;
  memGiB: number;
  kernel: string;
  debian: string;
  commit: string;
  versions: string[];
}

function first(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return `${cmd}: not found`;
  }
}

export function machine(): Machine {
  const dirty = first('git', ['-C', TOP, 'status', '--porcelain', '--untracked-files=no']) ? '+changes' : '';
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown',
    memGiB: os.totalmem() / 2 ** 30,
    kernel: os.release(),
    debian: readFileSync('/etc/debian_version', 'utf8').trim(),
    commit: first('git', ['-C', TOP, 'rev-parse', '--short', 'HEAD']) + dirty,
    versions: [
      first(NSPAWN, ['--version']).replace(/\s*\(.*$/, ''),
      first('runc', ['--version']),
      first('bwrap', ['--version']),
      `node ${first(existsSync(`${TOP}/.toolchain/node/bin/node`) ? `${TOP}/.toolchain/node/bin/node` : 'node', ['--version'])}`,
    ],
  };
}
