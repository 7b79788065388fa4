import { describe, expect, it } from 'vitest';
import { unsupportedBusAddress } from '../../../service/dbus/dbus-next-address.js';

describe('bus addresses carphone can reach', () => {
  it('takes sockets in the file system and TCP', () => {
    expect(unsupportedBusAddress('unix:path=/run/dbus/system_bus_socket')).toBeUndefined();
    expect(unsupportedBusAddress('unix:path=/tmp/dbus-x,guid=0123')).toBeUndefined();
    expect(unsupportedBusAddress('tcp:host=127.0.0.1,port=5000')).toBeUndefined();
  });

  it('refuses an address that names only abstract sockets, saying what to do instead', () => {
    expect(unsupportedBusAddress('unix:abstract=/tmp/dbus-x,guid=0123')).toMatch(
      /abstract socket.*unix:dir=/,
    );
    expect(unsupportedBusAddress('unix:guid=0123,abstract=x;unix:abstract=y')).toBeDefined();
  });

  it('takes an address that lists a reachable entry beside an abstract one', () => {
    expect(unsupportedBusAddress('unix:abstract=/tmp/dbus-x;unix:path=/tmp/dbus-y')).toBeUndefined();
  });
});
