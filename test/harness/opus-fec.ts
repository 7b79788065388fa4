import { execFileSync } from 'node:child_process';
import { cHarness } from './c-harness.js';

/**
 * Opus packets decoded by Debian's libopus (test/harness/opus-fec-decoder.c) as a receiver with in-band
 * FEC would: packets `every`, 2 × `every` … lost, each recovered from the next packet's FEC data.
 * 8 kHz mono PCM, `frameSamples` per lost frame.
 */
export function decodeLosingEveryNth(
  packets: readonly Uint8Array[],
  every: number,
  frameSamples: number,
): Int16Array {
  const input = Buffer.concat(
    packets.flatMap((packet) => {
      const length = Buffer.alloc(2);
      length.writeUInt16LE(packet.length);
      return [length, Buffer.from(packet)];
    }),
  );
  const decoder = cHarness(new URL('./opus-fec-decoder.c', import.meta.url), ['-lopus']);
  const out = execFileSync(decoder, [String(every), String(frameSamples)], { input });
  return new Int16Array(out.buffer, out.byteOffset, out.length / 2);
}
