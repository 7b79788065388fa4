import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { closedRecording, windowShares } from '../harness/audio.js';
import { carBehindNat } from '../harness/car-behind-nat.js';
import type { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { LatchingMediaPeer, PEER_TONE_HZ, type PeerHeard } from '../harness/latching-media-peer.js';
import { NatNetwork } from '../harness/nat-network.js';
import { Sipp } from '../harness/sipp.js';

/**
 * A car behind a NAT that forgets idle UDP mappings after 4 s (a carrier-grade NAT's 30 s or more,
 * shortened), calling far ends in the operator's core through its proxy (kamailio, which the car's
 * SIP keep-alives keep reachable), their media coming through a relay that latches onto the car's
 * first RTP packet (latching-media-peer-main.ts), as an operator's SBC does for a car whose SDP names
 * a private address. RTP keep-alives (RFC 6263) every 2 s, or none.
 */
const NAT_UDP_TIMEOUT_SECONDS = 4;
const KEEP_ALIVE_SECONDS = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let net: NatNetwork;
let bus: PrivateBus;
let kam: Kamailio;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;
let sipp: Sipp | undefined;
let peer: LatchingMediaPeer | undefined;
let recordings: string;

beforeAll(async () => {
  net = NatNetwork.create(NAT_UDP_TIMEOUT_SECONDS);
  bus = await PrivateBus.start();
  kam = await Kamailio.start({
    users: [{ user: '1000', password: 'secret-1000' }],
    address: net.coreAddress,
    netns: net.core,
    behindNat: true,
    relayElsewhere: true,
  });
}, 30_000);

afterEach(async () => {
  sipp?.child.proc.kill('SIGKILL');
  await peer?.stop();
  client?.disconnect();
  await daemon?.stop();
  sipp = client = daemon = peer = undefined;
});

afterAll(async () => {
  await kam?.stop();
  await bus?.stop();
  net?.destroy();
});

/** carphoned in the car, registered through the NAT and recording what each call plays; its D-Bus client. */
async function car(rtpKeepAliveSeconds: number): Promise<OfonoClient> {
  recordings = mkdtempSync(join(tmpdir(), 'carphone-nat-rec-'));
  ({ daemon, client } = await carBehindNat(
    net,
    kam,
    bus.address,
    { outboundProxy: kam.uri, keepAliveSeconds: 2, rtpKeepAliveSeconds },
    { audio: { device: { type: 'file', record: recordings } } },
  ));
  return client;
}

/** A far end in the core: SIPp for its signalling, the latching relay for its media. */
async function farEnd(scenario: string, fill: Record<string, string> = {}): Promise<Sipp> {
  peer = await LatchingMediaPeer.start({ netns: net.core, address: net.coreAddress });
  sipp = await Sipp.start(
    scenario,
    ['-timeout', '40s'],
    { mediaPort: String(peer.port), ...fill },
    { netns: net.core, address: net.coreAddress },
  );
  return sipp;
}

/** The share of the peer's tone in each 200 ms window of what the car played in its one call. */
async function whatTheCarPlayed(): Promise<number[]> {
  const [file] = readdirSync(recordings);
  return file ? windowShares(await closedRecording(join(recordings, file)), PEER_TONE_HZ) : [];
}

const heardTone = (shares: number[]): number => shares.filter((s) => s > 0.5).length;

/** The NAT's public ports the car's RTP came from, in the order the relay first saw them. */
function publicPorts(heard: PeerHeard[]): string[] {
  return [...new Set(heard.map((h) => h.from))];
}

describe('RTP keep-alives for a car behind a NAT (RFC 6263)', () => {
  it.each([
    [KEEP_ALIVE_SECONDS, 'hears'],
    [0, 'does not hear'],
  ] as const)(
    'with keep-alives every %i s, %s an announcement played as early media, which a relay can send only once the car has sent',
    async (keepAlive, outcome) => {
      const c = await car(keepAlive);
      const s = await farEnd('early-announcement-uas.xml', { milliseconds: '3000' });
      const since = c.signals.length;
      const path = await c.dial('/sip0', `sip:announcement@${net.coreAddress}:${s.port}`);
      expect(await c.waitForDisconnectReason(path, 15_000, since)).toBe('remote');
      expect(await s.exitCode()).toBe(0);
      const played = await whatTheCarPlayed();
      const keepAlives = peer?.heard() ?? [];
      if (outcome === 'hears') {
        // The car's first keep-alive went out as the 183 came; the relay latched onto it at once.
        expect(keepAlives.length).toBeGreaterThanOrEqual(1);
        expect(keepAlives.every((h) => h.pt === 20 && h.bytes === 0)).toBe(true);
        expect(keepAlives[0]?.from).toMatch(new RegExp(`^${net.publicAddress.replaceAll('.', '\\.')}:`));
        // About 3 s of announcement: 15 windows of 200 ms.
        expect(heardTone(played)).toBeGreaterThanOrEqual(10);
      } else {
        expect(keepAlives).toHaveLength(0);
        expect(heardTone(played)).toBe(0);
      }
    },
    40_000,
  );

  it.each([
    [KEEP_ALIVE_SECONDS, 'hears'],
    [0, 'does not hear'],
  ] as const)(
    'with keep-alives every %i s, %s the far end once it resumes a call it held longer than the NAT keeps a mapping',
    async (keepAlive, outcome) => {
      const c = await car(keepAlive);
      const s = await farEnd('answer-and-be-held-uas.xml');
      const since = c.signals.length;
      const path = await c.dial('/sip0', `sip:far@${net.coreAddress}:${s.port}`);
      await c.waitForCallState(path, 'active', 10_000, since);
      await sleep(2000);
      // The car holds the call; the far end, recvonly, sends nothing, nor does the car's audio.
      await c.manager('/sip0', 'SwapCalls');
      await c.waitForCallState(path, 'held', 5000, since);
      peer?.play(false);
      const heldFrom = (peer?.heard() ?? []).length;
      await sleep((NAT_UDP_TIMEOUT_SECONDS + 4) * 1000);
      const whileHeld = (peer?.heard() ?? []).slice(heldFrom);
      const resumeFrom = (peer?.heard() ?? []).length;
      const resumeSince = c.signals.length;
      await c.manager('/sip0', 'SwapCalls');
      await c.waitForCallState(path, 'active', 5000, resumeSince);
      peer?.play(true);
      await sleep(3000);
      await c.hangup(path);
      expect(await s.exitCode()).toBe(0);
      const heard = peer?.heard() ?? [];
      const afterResume = heard.slice(resumeFrom);
      // The recording holds the call's first 2 s and, the clock stopped while held, the 3 s after it.
      const played = await whatTheCarPlayed();
      const lastTwoSeconds = played.slice(-10);
      expect(heardTone(played.slice(0, 8))).toBeGreaterThanOrEqual(6);
      expect(afterResume.some((h) => h.pt === 0)).toBe(true);
      if (outcome === 'hears') {
        // Every 2 s while held, each through the one mapping the call started with.
        expect(whileHeld.filter((h) => h.pt === 20).length).toBeGreaterThanOrEqual(3);
        expect(publicPorts(heard)).toHaveLength(1);
        expect(heardTone(lastTwoSeconds)).toBeGreaterThanOrEqual(8);
      } else {
        // Nothing for 8 s: the NAT forgot the mapping, the car's audio after the hold took a new one,
        // and the relay's (latched onto the first) leads nowhere.
        expect(whileHeld.filter((h) => h.pt === 20)).toHaveLength(0);
        expect(publicPorts(heard)).toHaveLength(2);
        expect(heardTone(lastTwoSeconds)).toBe(0);
      }
    },
    60_000,
  );
});
