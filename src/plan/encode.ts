/**
 * LaunchPlan -> the helper's wire format (native/plan.c): one record a line,
 * TAB-separated, each field percent-escaped.
 */
import type { HelperRegistration, LaunchPlan, MountFlag, MountOp, PlanNetwork, PlanProcess } from './types.js';

function esc(value: string): string {
  if (value.includes('\0')) throw new Error(`plan field contains a NUL byte: ${JSON.stringify(value)}`);
  return value.replace(/[%\t\n\r\x00-\x1f]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase());
}

/** Bytes as a field: every byte outside printable ASCII (and '%') escaped, so they pass through the UTF-8 plan as they are. */
function escBytes(value: Buffer): string {
  if (value.includes(0)) throw new Error('plan field contains a NUL byte');
  let out = '';
  for (const b of value) out += b >= 0x20 && b < 0x7f && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).padStart(2, '0').toUpperCase();
  return out;
}

type Field = string | Buffer;
const escField = (f: Field): string => (typeof f === 'string' ? esc(f) : escBytes(f));

const flags = (f: readonly MountFlag[]): string => (f.length ? f.join(',') : '-');
const octal = (n: number): string => n.toString(8);

function opFields(op: MountOp): Field[] {
  switch (op.kind) {
    case 'mkdir':
    case 'touch':
      return [op.kind, op.path, octal(op.mode)];
    case 'bind':
    case 'bind-inner':
      return [op.kind, op.source, op.target, flags(op.flags)];
    case 'mount':
      return [op.kind, op.fstype, op.target, flags(op.flags), op.data || '-'];
    case 'remount-ro':
      return [op.kind, op.target, flags(op.flags)];
    case 'symlink':
      return [op.kind, op.target, op.path];
    case 'mknod':
      return [op.kind, op.path, octal(op.mode), String(op.major), String(op.minor)];
    case 'write':
      return [op.kind, op.path, octal(op.mode), op.content];
    case 'console':
    case 'notify-socket':
      return [op.kind, op.path];
    case 'unlink':
      return [op.kind, op.path, flags(op.flags)];
    case 'copy':
      return [op.kind, op.source, op.target, octal(op.mode), flags(op.flags)];
    case 'overlay':
      return [op.kind, op.target, op.upper, op.lowers.join('\n')];
  }
}

/** native/registration.h's records. */
function registrationRecords(r: HelperRegistration): Field[][] {
  return [
    ['bus', r.bus],
    ['register', r.kind, r.mode],
    ...(r.machine ? [['register-machine', r.machine.name, r.machine.id, r.machine.service, r.machine.root]] : []),
    ...(r.unit ? [['register-scope', r.unit]] : []),
    ...(r.retry ? [['register-retry']] : []),
    ...r.properties.map((p) => ['register-prop', p.name, p.signature, ...p.values]),
  ];
}

/** native/network.h's records: net-veth HOST ALTNAME HOSTMAC CONTAINER CONTAINERMAC ATTACH BRIDGE [register], net-move NAME, net-vlan KIND PARENT NAME ALTNAME MAC, net-join PATH, net-port PROTO HOST CONTAINER. */
function networkRecords(n: PlanNetwork): Field[][] {
  return [
    ...n.links.map((l) => [
      'net-veth',
      l.host,
      l.altName ?? '-',
      l.hostMac,
      l.container,
      l.containerMac,
      l.attach?.kind ?? 'none',
      l.attach?.bridge ?? '-',
      ...(l.register ? ['register'] : []),
    ]),
    ...n.moved.map((name) => ['net-move', name]),
    ...n.vlans.map((v) => ['net-vlan', v.kind, v.parent, v.name, v.altName ?? '-', v.mac ?? '-']),
    ...(n.join !== undefined ? [['net-join', n.join]] : []),
    ...n.ports.map((p) => ['net-port', p.protocol, String(p.hostPort), String(p.containerPort)]),
    ...(n.table ? [['net-table', n.table]] : []),
  ];
}

/** native/proc-limits.h's records: no-new-privileges, oom-score-adjust N, cpu N (one a CPU), rlimit NAME SOFT HARD, personality P, caps-ambient HEX. */
function processRecords(p: PlanProcess): Field[][] {
  return [
    ...(p.noNewPrivileges ? [['no-new-privileges']] : []),
    ...(p.oomScoreAdjust !== undefined ? [['oom-score-adjust', String(p.oomScoreAdjust)]] : []),
    ...(p.cpuAffinity ?? []).map((c) => ['cpu', String(c)]),
    ...p.rlimits.map((r) => ['rlimit', r.name, r.soft, r.hard]),
    ...(p.personality ? [['personality', p.personality]] : []),
    ...(p.capsAmbient !== '0' ? [['caps-ambient', p.capsAmbient]] : []),
  ];
}

/**
 * helperFd: where the helper holds a descriptor of tsnspawn's (plan.carryFds;
 * the sockets of plan.listenFds are tsnspawn's 3, 4, ...). By default as
 * spawned: after its control socket, from 4 on, in carryFds order.
 */
export function encodePlan(plan: LaunchPlan, helperFd: (original: number) => number = (o) => 4 + (plan.carryFds ?? []).indexOf(o)): string {
  const rec: Field[][] = [['tsnspawn-plan', '1'], ['root', plan.root], ['root-id', plan.rootId.dev, plan.rootId.ino], ['hostname', plan.hostname]];
  if (plan.imageHolder) rec.push(['image-holder', String(plan.imageHolder)]);
  if (plan.registration) rec.push(...registrationRecords(plan.registration));
  if (plan.listenFds) rec.push(['listen-fds', String(helperFd(3)), String(plan.listenFds)]);
  for (const fd of plan.carryFds ?? []) rec.push(['carry-fd', String(helperFd(fd)), String(fd)]);
  for (const [ns, on] of Object.entries(plan.namespaces)) if (on) rec.push(['ns', ns]);
  rec.push(['console', plan.console]);
  if (plan.readOnlyRoot) rec.push(['read-only-root']);
  if (!plan.syscallFilter) rec.push(['no-syscall-filter']);
  if (plan.suppressSync) rec.push(['suppress-sync']);
  // native/syscall-rules.h: one call a record, as the ABI numbers it.
  for (const r of plan.syscallRules ?? []) {
    for (const nr of r.allow) rec.push(['syscall-allow', r.abi, String(nr)]);
    for (const nr of r.deny) rec.push(['syscall-deny', r.abi, String(nr)]);
  }
  if (plan.asPid2) rec.push(['as-pid2']);
  if (plan.rootMode !== 'plain') rec.push(['root-mode', plan.rootMode]);
  if (plan.pivotRoot) rec.push(['pivot-root', plan.pivotRoot.order, plan.pivotRoot.newRoot, plan.pivotRoot.oldRoot ?? '']);
  if (plan.treeLock) rec.push(['tree-lock', plan.treeLock.mode, plan.treeLock.local, plan.treeLock.global]);
  rec.push(['cwd', plan.cwd], ['user', String(plan.uid), String(plan.gid)]);
  for (const g of plan.groups) rec.push(['group', String(g)]);
  rec.push(['caps', plan.capsRetain], ['exec', plan.exec]);
  for (const a of plan.argv) rec.push(['arg', a]);
  for (const e of plan.env) rec.push(['env', e]);
  for (const c of plan.cgroups ?? []) rec.push(['cgroup', c]);
  if (plan.userns) {
    rec.push(['userns', plan.userns.mode, String(plan.userns.base), String(plan.userns.count)], ['inner-ops-from', String(plan.userns.innerOpsFrom)]);
    if (plan.userns.idmapRoot) rec.push(['userns-idmap-root']);
    if (plan.userns.chownRoot) rec.push(['userns-chown-root']);
    if (plan.userns.prefer !== undefined) rec.push(['userns-prefer', String(plan.userns.prefer)]);
    for (const b of plan.userns.bindUsers ?? []) rec.push(['userns-bind-user', String(b.container), String(b.uid), String(b.gid)]);
  }
  for (const op of plan.ops) rec.push(['op', ...opFields(op)]);
  if (plan.network) rec.push(...networkRecords(plan.network));
  if (plan.process) rec.push(...processRecords(plan.process));
  rec.push(['end']);
  return rec.map((fields) => fields.map(escField).join('\t')).join('\n') + '\n';
}
