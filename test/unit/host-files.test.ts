/** --timezone, --resolv-conf and --link-journal as systemd-nspawn applies them: src/plan/host-files.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  journalPlan,
  resolvConfOps,
  timezoneOps,
  type HostFileFacts,
  type JournalFacts,
  type ResolvConfMode,
} from '../../src/plan/host-files.js';
import type { MountOp } from '../../src/plan/types.js';

function facts(over: Partial<HostFileFacts> = {}): HostFileFacts {
  return {
    writable: true,
    hostZone: 'Europe/Berlin',
    treeHasZone: true,
    treeHasLocaltime: true,
    treeLocaltimeIsSymlink: false,
    hostResolvSources: new Set(['host']),
    treeHasResolvConf: true,
    privateNetwork: false,
    ...over,
  };
}

const UNLINK_LOCALTIME: MountOp = { kind: 'unlink', path: '/etc/localtime', flags: ['optional'] };
const BIND_LOCALTIME: MountOp = { kind: 'bind', source: '/etc/localtime', target: '/etc/localtime', flags: ['ro', 'nosuid', 'nodev', 'mkdir'] };
const COPY_LOCALTIME: MountOp[] = [
  UNLINK_LOCALTIME,
  { kind: 'copy', source: '/etc/localtime', target: '/etc/localtime', mode: 0o644, flags: [] },
];
function symlinkTo(zone: string): MountOp[] {
  return [UNLINK_LOCALTIME, { kind: 'symlink', target: `../usr/share/zoneinfo/${zone}`, path: '/etc/localtime' }];
}

describe('timezoneOps', () => {
  describe('auto', () => {
    it('symlinks to the host zone in a writable tree that has the zone', () => {
      assert.deepEqual(timezoneOps('auto', facts()), symlinkTo('Europe/Berlin'));
    });

    it('the symlink is relative, so it resolves inside the guest', () => {
      const ops = timezoneOps('auto', facts({ hostZone: 'America/Argentina/Buenos_Aires' }));
      const link = ops.find((o) => o.kind === 'symlink');
      assert.ok(link && link.kind === 'symlink');
      assert.equal(link.target, '../usr/share/zoneinfo/America/Argentina/Buenos_Aires');
      assert.ok(!link.target.startsWith('/'));
    });

    it('binds the host file read-only on a read-only tree', () => {
      assert.deepEqual(timezoneOps('auto', facts({ writable: false })), [BIND_LOCALTIME]);
    });

    it('copies a host /etc/localtime that is a plain file into a writable tree', () => {
      assert.deepEqual(timezoneOps('auto', facts({ hostZone: 'file' })), COPY_LOCALTIME);
    });

    it('binds a host /etc/localtime that is a plain file on a read-only tree', () => {
      assert.deepEqual(timezoneOps('auto', facts({ hostZone: 'file', writable: false })), [BIND_LOCALTIME]);
    });

    it('deletes the guest file when the host has no /etc/localtime (writable tree)', () => {
      assert.deepEqual(timezoneOps('auto', facts({ hostZone: undefined })), [UNLINK_LOCALTIME]);
    });

    it('has nothing to delete when the tree has no /etc/localtime either', () => {
      assert.deepEqual(timezoneOps('auto', facts({ hostZone: undefined, treeHasLocaltime: false })), []);
    });

    it('leaves a read-only tree alone when the host has no /etc/localtime', () => {
      assert.deepEqual(timezoneOps('auto', facts({ hostZone: undefined, writable: false })), []);
    });

    it('falls back to a bind when the tree lacks the host zone', () => {
      assert.deepEqual(timezoneOps('auto', facts({ treeHasZone: false })), [BIND_LOCALTIME]);
    });
  });

  describe('symlink', () => {
    it('symlinks to the zone when the tree has it', () => {
      assert.deepEqual(timezoneOps('symlink', facts()), symlinkTo('Europe/Berlin'));
    });

    it('falls back to a bind when the tree lacks the zone', () => {
      assert.deepEqual(timezoneOps('symlink', facts({ treeHasZone: false })), [BIND_LOCALTIME]);
    });

    it('does nothing when the host has no /etc/localtime', () => {
      assert.deepEqual(timezoneOps('symlink', facts({ hostZone: undefined })), []);
    });

    it('never makes a link for a host file that names no zone', () => {
      const ops = timezoneOps('symlink', facts({ hostZone: 'file' }));
      assert.ok(!ops.some((o) => o.kind === 'symlink'), JSON.stringify(ops));
    });
  });

  describe('bind', () => {
    it('binds the host file read-only, creating the target if needed', () => {
      assert.deepEqual(timezoneOps('bind', facts()), [BIND_LOCALTIME]);
      assert.deepEqual(timezoneOps('bind', facts({ writable: false })), [BIND_LOCALTIME]);
      assert.deepEqual(timezoneOps('bind', facts({ treeHasLocaltime: false })), [BIND_LOCALTIME]);
    });

    it('over a symlinked /etc/localtime, unlinks it first when writable (else the bind lands on the zoneinfo file)', () => {
      assert.deepEqual(timezoneOps('bind', facts({ treeLocaltimeIsSymlink: true })), [UNLINK_LOCALTIME, BIND_LOCALTIME]);
    });

    it('over a symlinked /etc/localtime on a read-only tree, does nothing', () => {
      assert.deepEqual(timezoneOps('bind', facts({ treeLocaltimeIsSymlink: true, writable: false })), []);
    });

    it('auto on a read-only tree with a symlinked /etc/localtime does not touch the zoneinfo file', () => {
      assert.deepEqual(timezoneOps('auto', facts({ treeLocaltimeIsSymlink: true, writable: false })), []);
    });

    it('has nothing to bind when the host has no /etc/localtime', () => {
      assert.deepEqual(timezoneOps('bind', facts({ hostZone: undefined })), []);
    });
  });

  describe('copy, delete, off', () => {
    it('copy replaces the guest file by a 0644 copy of the host one', () => {
      assert.deepEqual(timezoneOps('copy', facts()), COPY_LOCALTIME);
      assert.deepEqual(timezoneOps('copy', facts({ hostZone: 'file' })), COPY_LOCALTIME);
    });

    it('delete removes the guest file when there is one', () => {
      assert.deepEqual(timezoneOps('delete', facts()), [UNLINK_LOCALTIME]);
      assert.deepEqual(timezoneOps('delete', facts({ treeHasLocaltime: false })), []);
    });

    it('off never touches the tree', () => {
      for (const over of [{}, { writable: false }, { hostZone: undefined }, { hostZone: 'file' as const }, { treeLocaltimeIsSymlink: true }])
        assert.deepEqual(timezoneOps('off', facts(over)), []);
    });
  });
});

describe('resolvConfOps', () => {
  function bind(source: string): MountOp {
    return { kind: 'bind', source, target: '/etc/resolv.conf', flags: ['ro', 'nosuid', 'nodev', 'mkdir'] };
  }
  function copy(source: string): MountOp {
    return { kind: 'copy', source, target: '/etc/resolv.conf', mode: 0o644, flags: ['optional'] };
  }
  function replace(source: string): MountOp[] {
    return [
      { kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] },
      { kind: 'copy', source, target: '/etc/resolv.conf', mode: 0o644, flags: [] },
    ];
  }
  const ALL = new Set(['host', 'static', 'uplink', 'stub']);
  const SOURCES = {
    host: '/etc/resolv.conf',
    static: '/usr/lib/systemd/resolv.conf',
    uplink: '/run/systemd/resolve/resolv.conf',
    stub: '/run/systemd/resolve/stub-resolv.conf',
  } as const;

  describe('auto', () => {
    it('is off with a private network (the host resolvers are not reachable)', () => {
      assert.deepEqual(resolvConfOps('auto', facts({ privateNetwork: true })), []);
      assert.deepEqual(resolvConfOps('auto', facts({ privateNetwork: true, writable: false })), []);
    });

    it('copies the host /etc/resolv.conf into a writable tree', () => {
      assert.deepEqual(resolvConfOps('auto', facts()), [copy('/etc/resolv.conf')]);
    });

    it('binds the host /etc/resolv.conf read-only on a read-only tree', () => {
      assert.deepEqual(resolvConfOps('auto', facts({ writable: false })), [bind('/etc/resolv.conf')]);
    });

    it('deletes the guest file when the host has none (writable tree)', () => {
      assert.deepEqual(resolvConfOps('auto', facts({ hostResolvSources: new Set() })), [
        { kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] },
      ]);
      assert.deepEqual(resolvConfOps('auto', facts({ hostResolvSources: new Set(['stub']) })), [
        { kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] },
      ]);
    });

    it('leaves a read-only tree alone when the host has none', () => {
      assert.deepEqual(resolvConfOps('auto', facts({ hostResolvSources: new Set(), writable: false })), []);
    });

    it('has nothing to delete when neither has one', () => {
      assert.deepEqual(resolvConfOps('auto', facts({ hostResolvSources: new Set(), treeHasResolvConf: false })), []);
    });
  });

  for (const which of ['host', 'static', 'uplink', 'stub'] as const) {
    describe(`the ${which} source (${SOURCES[which]})`, () => {
      it(`copy-${which} copies it`, () => {
        assert.deepEqual(resolvConfOps(`copy-${which}`, facts({ hostResolvSources: ALL })), [copy(SOURCES[which])]);
      });

      it(`replace-${which} unlinks the guest file first, then copies`, () => {
        assert.deepEqual(resolvConfOps(`replace-${which}`, facts({ hostResolvSources: ALL })), replace(SOURCES[which]));
      });

      it(`bind-${which} binds it read-only`, () => {
        assert.deepEqual(resolvConfOps(`bind-${which}`, facts({ hostResolvSources: ALL })), [bind(SOURCES[which])]);
      });

      it('gives no ops at all when the host lacks the source', () => {
        const others = new Set([...ALL].filter((s) => s !== which));
        for (const how of ['copy', 'replace', 'bind'])
          assert.deepEqual(resolvConfOps(`${how}-${which}` as ResolvConfMode, facts({ hostResolvSources: others })), [], `${how}-${which}`);
      });
    });
  }

  it('off never touches the tree', () => {
    assert.deepEqual(resolvConfOps('off', facts()), []);
    assert.deepEqual(resolvConfOps('off', facts({ hostResolvSources: ALL, writable: false })), []);
  });

  it('delete removes the guest file when there is one, whatever the host has', () => {
    const unlink: MountOp = { kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] };
    assert.deepEqual(resolvConfOps('delete', facts()), [unlink]);
    assert.deepEqual(resolvConfOps('delete', facts({ hostResolvSources: new Set() })), [unlink]);
    assert.deepEqual(resolvConfOps('delete', facts({ treeHasResolvConf: false })), []);
  });

  it('explicit modes apply with a private network too (only auto turns off)', () => {
    assert.deepEqual(resolvConfOps('bind-host', facts({ privateNetwork: true })), [bind('/etc/resolv.conf')]);
  });
});

describe('journalPlan', () => {
  const ID = '0123456789abcdef0123456789abcdef';
  const ROOT = '/var/lib/machines/deb';
  const PATH = `/var/log/journal/${ID}`;
  const BIND: MountOp = { kind: 'bind', source: PATH, target: PATH, flags: ['mkdir'] };
  const GUEST_DIR: MountOp = { kind: 'mkdir', path: PATH, mode: 0o2755 };
  const ENTRIES = ['missing', 'directory', 'symlink-to-guest', 'other'] as const;

  function jf(over: Partial<JournalFacts> = {}): JournalFacts {
    return { machineId: ID, root: ROOT, hostHasJournal: true, hostEntry: 'missing', ...over };
  }

  it('no: nothing, whatever the host has', () => {
    for (const hostEntry of ENTRIES) {
      assert.deepEqual(journalPlan('no', jf({ hostEntry })), { ops: [] });
      assert.deepEqual(journalPlan('no', jf({ hostEntry, hostHasJournal: false })), { ops: [] });
    }
  });

  describe('auto', () => {
    it('binds an existing host directory of the machine id into the guest', () => {
      assert.deepEqual(journalPlan('auto', jf({ hostEntry: 'directory' })), { ops: [BIND] });
    });

    it('makes the guest directory when the host entry links to it', () => {
      assert.deepEqual(journalPlan('auto', jf({ hostEntry: 'symlink-to-guest' })), { ops: [GUEST_DIR] });
    });

    it('does nothing when the host has no entry, or something else', () => {
      assert.deepEqual(journalPlan('auto', jf({ hostEntry: 'missing' })), { ops: [] });
      assert.deepEqual(journalPlan('auto', jf({ hostEntry: 'other' })), { ops: [] });
    });

    it('never creates anything on the host', () => {
      for (const hostEntry of ENTRIES) {
        const p = journalPlan('auto', jf({ hostEntry }));
        assert.notEqual(p, 'refuse');
        assert.equal((p as { hostDirectory?: string }).hostDirectory, undefined);
        assert.equal((p as { hostSymlink?: unknown }).hostSymlink, undefined);
      }
    });
  });

  describe('host / try-host', () => {
    for (const hostEntry of ['missing', 'directory'] as const)
      it(`with the host entry ${hostEntry}: creates the host directory and binds it`, () => {
        for (const mode of ['host', 'try-host'] as const)
          assert.deepEqual(journalPlan(mode, jf({ hostEntry })), { ops: [BIND], hostDirectory: PATH });
      });

    for (const hostEntry of ['symlink-to-guest', 'other'] as const)
      it(`with the host entry ${hostEntry}: host refuses, try-host does nothing`, () => {
        assert.equal(journalPlan('host', jf({ hostEntry })), 'refuse');
        assert.deepEqual(journalPlan('try-host', jf({ hostEntry })), { ops: [] });
      });

    it('without a host /var/log/journal: host refuses, try-host does nothing', () => {
      assert.equal(journalPlan('host', jf({ hostHasJournal: false })), 'refuse');
      assert.deepEqual(journalPlan('try-host', jf({ hostHasJournal: false })), { ops: [] });
    });
  });

  describe('guest / try-guest', () => {
    for (const hostEntry of ['missing', 'symlink-to-guest'] as const)
      it(`with the host entry ${hostEntry}: makes the guest directory and links the host entry to it`, () => {
        for (const mode of ['guest', 'try-guest'] as const)
          assert.deepEqual(journalPlan(mode, jf({ hostEntry })), {
            ops: [GUEST_DIR],
            hostSymlink: { path: PATH, target: `${ROOT}${PATH}` },
          });
      });

    for (const hostEntry of ['directory', 'other'] as const)
      it(`with the host entry ${hostEntry}: guest refuses, try-guest does nothing`, () => {
        assert.equal(journalPlan('guest', jf({ hostEntry })), 'refuse');
        assert.deepEqual(journalPlan('try-guest', jf({ hostEntry })), { ops: [] });
      });

    it('without a host /var/log/journal: guest refuses, try-guest does nothing', () => {
      assert.equal(journalPlan('guest', jf({ hostHasJournal: false })), 'refuse');
      assert.deepEqual(journalPlan('try-guest', jf({ hostHasJournal: false })), { ops: [] });
    });
  });

  it('the guest directory is setgid (journald files inherit the group, as nspawn makes it)', () => {
    const p = journalPlan('guest', jf());
    assert.notEqual(p, 'refuse');
    const op = (p as { ops: MountOp[] }).ops[0]!;
    assert.ok(op.kind === 'mkdir' && (op.mode & 0o2000) !== 0);
  });
});
