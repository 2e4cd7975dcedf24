/** Test trees built by images/build from Debian's packages, cached by recipe hash. */
import { execFileSync } from 'node:child_process';
import { IMAGES_BUILD } from './paths.js';

const cache = new Map<string, string>();

/** Path of a ready tree for recipe NAME (builds it if missing; slow the first time). */
export function image(name: string): string {
  let path = cache.get(name);
  if (!path) {
    const out = execFileSync(IMAGES_BUILD, [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    path = out.trim().split('\n').pop()!;
    cache.set(name, path);
  }
  return path;
}
