/**
 * Socket activation (sd_listen_fds): descriptors systemd passed to
 * tsnspawn ($LISTEN_FDS from fd 3 on, $LISTEN_PID ours) are passed on to
 * the container's PID 1 as 3, 4, ..., as the Container Interface
 * describes, so the guest's own socket units take them over.
 */

/** The first of them in tsnspawn's table (sd-daemon's SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

export interface ListenFds {
  count: number;
  /** $LISTEN_FDNAMES as given (colon-separated), if any. */
  names?: string;
}

/** What systemd passed to this process, or undefined (none, or meant for another pid). */
export function inheritedListenFds(env: NodeJS.ProcessEnv, pid: number): ListenFds | undefined {
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count <= 0 || env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return undefined;
  return { count, ...(env.LISTEN_FDNAMES !== undefined ? { names: env.LISTEN_FDNAMES } : {}) };
}

/** $LISTEN_* for the container's side: the pid that receives them is 1 (2 under --as-pid2's stub init). */
export function listenEnvironment(fds: ListenFds, asPid2: boolean): string[] {
  return [`LISTEN_FDS=${fds.count}`, `LISTEN_PID=${asPid2 ? 2 : 1}`, ...(fds.names !== undefined ? [`LISTEN_FDNAMES=${fds.names}`] : [])];
}
