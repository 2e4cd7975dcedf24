/** Node's handover to the supervisor: src/runtime/handover.ts (its command line and the reboot state). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { supervisorArgv, takeRebootState, type HandoverFacts } from '../../src/runtime/handover.js';
import { HELPER_PATH } from '../../src/runtime/helper.js';

const FACTS: HandoverFacts = {
  socket: '@tsnspawn-supervise-0123456789abcdef',
  helperPid: 4242,
  machineName: 'deb-1',
  uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  killSignal: 37,
  readySent: false,
  keepUnit: true,
  quiet: true,
  cgroupDirs: ['/sys/fs/cgroup/unified/tsnspawn-deb-1', '/sys/fs/cgroup/systemd/tsnspawn-deb-1'],
  halted: [15],
  pending: [15, 2],
  nodeArgv: ['/usr/bin/node', '/opt/tsnspawn/cli.cjs', '-b', '-D', '/srv/deb', '--', '--log-level=debug'],
  statePath: '/run/tsnspawn/machines/deb-1',
  events: { fd: 7, readySent: true },
  carryFds: [3, 7],
};

describe('supervisorArgv', () => {
  it("names the monitor and its socket, the machine, the kill policy and cgroups, then Node's own command line after --", () => {
    assert.deepEqual(supervisorArgv(FACTS), [
      HELPER_PATH, '--supervise', '--monitor-pid', '4242', '--monitor-socket', '@tsnspawn-supervise-0123456789abcdef', '--machine', 'deb-1',
      '--kill-signal', '37', '--keep-unit', '--quiet',
 '--cgroup', '/sys/fs/cgroup/unified/tsnspawn-deb-1', '--cgroup', '/sys/fs/cgroup/systemd/tsnspawn-deb-1',
      '--halted', '15', '--pending', '15', '--pending', '2', '--state', '/run/tsnspawn/machines/deb-1',
      '--events-fd', '7', '--events-ready-sent', '--carry-fd', '3', '--carry-fd', '7',
      '--', '/usr/bin/node', '/opt/tsnspawn/cli.cjs', '-b', '-D', '/srv/deb', '--', '--log-level=debug',
    ]);
  });

  it('leaves out what is not set: no kill signal means kill at once; READY=1 already sent', () => {
    const argv = supervisorArgv({ ...FACTS, killSignal: undefined, readySent: true, keepUnit: false, quiet: false, cgroupDirs: [], halted: [], pending: [], events: undefined, carryFds: [] });
    assert.deepEqual(argv.slice(0, argv.indexOf('--')), [HELPER_PATH, '--supervise', '--monitor-pid', '4242', '--monitor-socket', '@tsnspawn-supervise-0123456789abcdef', '--machine', 'deb-1', '--ready-sent', '--state', '/run/tsnspawn/machines/deb-1']);
  });
});

describe('takeRebootState', () => {
  it('gives the name and UUID only after a reboot, and takes both variables out of the environment', () => {
    process.env.TSNSPAWN_MACHINE_STATE = 'deb-1\n3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    assert.equal(takeRebootState(), undefined, 'a state without TSNSPAWN_REBOOT=1 is not a reboot');
    assert.equal(process.env.TSNSPAWN_MACHINE_STATE, undefined);
    process.env.TSNSPAWN_MACHINE_STATE = 'deb-1\n3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    process.env.TSNSPAWN_REBOOT = '1';
    assert.deepEqual(takeRebootState(), { machineName: 'deb-1', uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301' });
    assert.equal(process.env.TSNSPAWN_REBOOT, undefined);
    assert.equal(process.env.TSNSPAWN_MACHINE_STATE, undefined);
  });
});
