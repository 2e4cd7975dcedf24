/** Which socket the helper connects to as the scope's controller: src/machined/bus-address.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SYSTEM_BUS_ADDRESS, unixSocketOfAddress } from '../../src/machined/bus-address.js';

describe('unixSocketOfAddress', () => {
  it('the default system bus', () => {
    assert.equal(unixSocketOfAddress(DEFAULT_SYSTEM_BUS_ADDRESS), '/run/dbus/system_bus_socket');
  });

  it('a path with other keys and %XX escapes', () => {
    assert.equal(unixSocketOfAddress('unix:guid=0123abcd,path=/run/my%20bus/sock'), '/run/my bus/sock');
  });

  it('an abstract socket, written with a leading @', () => {
    assert.equal(unixSocketOfAddress('unix:abstract=/tmp/dbus-XYZ,guid=1'), '@/tmp/dbus-XYZ');
  });

  it('the first unix entry of a list; other transports are passed over', () => {
    assert.equal(unixSocketOfAddress('tcp:host=localhost,port=1234;unix:path=/b;unix:path=/c'), '/b');
  });

  it('none when no entry is a unix socket or an entry is malformed', () => {
    for (const a of ['', 'tcp:host=localhost,port=1', 'unix:tmpdir=/tmp', 'unix:path=', 'unix:path=%zz', 'unixpath=/x', 'launchd:env=X'])
      assert.equal(unixSocketOfAddress(a), undefined, a);
  });
});
