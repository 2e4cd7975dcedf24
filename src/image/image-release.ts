/**
 * The one thing tsnspawn's exit must wait for with -i: the image holder
 * (src/image/disk-image.ts) gone, so that its loop device is detached by
 * the time tsnspawn exits after a refusal. Kept apart so the CLI's exit
 * path loads no child_process when no image was used.
 */
let pending: (() => Promise<void>) | undefined;

export function setImageRelease(release: (() => Promise<void>) | undefined): void {
  pending = release;
}

/** Ends the image holder (if one still runs) and waits for it. */
export async function releaseImage(): Promise<void> {
  const release = pending;
  pending = undefined;
  if (release) await release();
}
