/**
 * --port's nftables tables (native/port.c makes one a container, "inet
 * tsnspawn-NAME", and removes it when init is gone). A tsnspawn killed
 * with SIGKILL takes its monitor along, and the table stays: removed here,
 * at the next start with --port and at `tsnspawn list`, when no running
 * container of tsnspawn's has that name (runtime records, state.ts) and the
 * monitor named in the table's comment (pid and start time) is gone.
 */
import { existsSync } from 'node:fs';
import { PORT_TABLE_PREFIX } from '../plan/network.js';
import { listStates, processStart } from './state.js';

const NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

export function nftPath(): string | undefined {
  return NFT.find((p) => existsSync(p));
}

/** Removes stale tables; returns their names. Never throws: this is housekeeping. */
export async function removeStalePortTables(): Promise<string[]> {
  const path = nftPath();
  if (!path) return [];
  // Loaded only here: child_process costs every start a few ms of module loading.
  const { execFileSync } = await import('node:child_process');
  const nft = (p: string, args: string[]): string => execFileSync(p, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let listing: string;
  try {
    listing = nft(path, ['list', 'tables', 'inet']);
  } catch {
    return [];
  }
  const live = new Set(listStates().map((s) => `${PORT_TABLE_PREFIX}${s.name}`));
  const removed: string[] = [];
  for (const m of listing.matchAll(/^table inet (\S+)$/gm)) {
    const table = m[1]!;
    if (!table.startsWith(PORT_TABLE_PREFIX) || live.has(table)) continue;
    try {
      const owner = /comment "tsnspawn monitor (\d+) (\d+)"/.exec(nft(path, ['list', 'table', 'inet', table]));
      // A monitor still alive is a container starting (its record comes a moment later).
      if (owner && processStart(Number(owner[1])) === owner[2]) continue;
      nft(path, ['delete', 'table', 'inet', table]);
      removed.push(table);
    } catch {
      /* gone meanwhile, or not ours to judge */
    }
  }
  return removed;
}
