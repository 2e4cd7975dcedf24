/**
 * Integration tests need root (namespaces, mounts). Elsewhere they skip with
 * a reason; under CI (CI=true) a missing root is a failure, not a skip.
 */
export const IS_ROOT = process.getuid?.() === 0;

export function rootSkipReason(): string | false {
  if (IS_ROOT) return false;
  if (process.env.CI === 'true') throw new Error('integration tests must run as root in CI');
  return 'needs root (namespaces and mounts); run the tests as root';
}
