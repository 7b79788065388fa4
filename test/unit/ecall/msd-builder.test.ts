import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { buildMsd, PositionTrack, TRUSTED_FIX_AGE_MS } from '../../../service/ecall/msd-builder.js';
import { toMilliarcseconds } from '../../../service/ecall/msd/msd.js';

const identity = { vin: 'WVWZZZ1KZAW123456', vehicleType: 'passengerVehicleCategoryM1', propulsion: [] };

function msdFrom(track: PositionTrack, clock: ManualClock) {
  return buildMsd({
    trigger: { activation: 'automatic', test: false, at: clock.now() },
    messageIdentifier: 1,
    identity,
    occupants: undefined,
    track,
  }).msd.msdStructure;
}

describe('the MSD position from the car and the receiver', () => {
  it("trusts the newest fix while fixes keep coming, a standing car's repeated one included", () => {
    const clock = new ManualClock();
    const track = new PositionTrack(clock);
    track.add({ latitude: 48.1372, longitude: 11.5756, at: clock.now() });
    for (let s = 0; s < 30; s++) {
      clock.advance(1000);
      track.add({ latitude: 48.1372, longitude: 11.5756, at: clock.now() });
    }
    const msd = msdFrom(track, clock);
    expect(msd.control.positionCanBeTrusted).toBe(true);
    expect(msd.vehicleLocation.positionLatitude).toBe(toMilliarcseconds(48.1372));
  });

  it('sends the last position as not trusted once no fix has come for longer than 10 s, and trusts the next', () => {
    const clock = new ManualClock();
    const track = new PositionTrack(clock);
    track.add({ latitude: 48.1372, longitude: 11.5756, at: clock.now() });
    clock.advance(TRUSTED_FIX_AGE_MS);
    expect(msdFrom(track, clock).control.positionCanBeTrusted).toBe(true);
    clock.advance(1);
    const stale = msdFrom(track, clock);
    expect(stale.control.positionCanBeTrusted).toBe(false);
    expect(stale.vehicleLocation.positionLongitude).toBe(toMilliarcseconds(11.5756));
    track.add({ latitude: 48.1401, longitude: 11.5789, at: clock.now() });
    expect(msdFrom(track, clock).control.positionCanBeTrusted).toBe(true);
  });

  it('measures the age on the monotonic clock: the wall clock set a year ahead does not make a fix stale', () => {
    const clock = new ManualClock();
    const track = new PositionTrack(clock);
    track.add({ latitude: 48.1372, longitude: 11.5756, at: clock.now() });
    clock.setWallClock(clock.now() + 365 * 24 * 3600 * 1000);
    clock.advance(2000);
    expect(msdFrom(track, clock).control.positionCanBeTrusted).toBe(true);
  });

  it('has no trusted position before the first fix', () => {
    const clock = new ManualClock();
    expect(msdFrom(new PositionTrack(clock), clock).control.positionCanBeTrusted).toBe(false);
  });
});
