/**
 * The media side of a far end in the operator's core, run by latching-media-peer.ts inside a network
 * namespace: a 620 Hz tone as PCMU (µ-law written here from G.711, not carphone's codec) in 20 ms RTP
 * packets, sent to wherever the first RTP packet came from and nowhere else. That is how an operator's
 * media relay reaches a car behind a NAT whose SDP names a private address (symmetric RTP, latching);
 * this one, like a relay guarding against hijacked streams, does not move once latched.
 *
 * Prints `{"bound":PORT}`, then one JSON line per RTP packet received ({from, pt, bytes}); reads `play`
 * and `quiet` lines on stdin (a far end holding the call sends nothing).
 */
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const TONE_HZ = 620;
const [address = '127.0.0.1'] = process.argv.slice(2);

/** G.711 µ-law of one 16-bit sample (ITU-T G.711: bias 132, clip, segment and mantissa, inverted). */
function muLaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), 32635) + 132;
  let segment = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && segment > 0; mask >>= 1) {
    segment--;
  }
  const mantissa = (magnitude >> (segment + 3)) & 0x0f;
  return ~(sign | (segment << 4) | mantissa) & 0xff;
}

const socket = createSocket('udp4');
let target: { address: string; port: number } | undefined;
let playing = true;
let seq = 1;
let timestamp = 1000;
let t = 0;

socket.on('message', (msg, from) => {
  if (msg.length < 12 || (msg[0] ?? 0) >> 6 !== 2) {
    return;
  }
  const pt = (msg[1] ?? 0) & 0x7f;
  process.stdout.write(
    `${JSON.stringify({ from: `${from.address}:${from.port}`, pt, bytes: msg.length - 12 })}\n`,
  );
  target ??= { address: from.address, port: from.port };
});

setInterval(() => {
  const packet = Buffer.alloc(12 + 160);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(timestamp, 4);
  packet.writeUInt32BE(0x620620, 8);
  for (let i = 0; i < 160; i++) {
    packet[12 + i] = muLaw(Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * t++) / 8000)));
  }
  seq = (seq + 1) & 0xffff;
  timestamp = (timestamp + 160) >>> 0;
  if (playing && target) {
    socket.send(packet, target.port, target.address);
  }
}, 20);

createInterface({ input: process.stdin }).on('line', (line) => {
  playing = line.trim() === 'play';
});

socket.bind(0, address, () => {
  process.stdout.write(`${JSON.stringify({ bound: socket.address().port })}\n`);
});
