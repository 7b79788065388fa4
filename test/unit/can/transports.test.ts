import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatFrame, type CanFrame } from '../../../can/frame.js';
import { parseCandumpLine } from '../../../can/transport/candump-log.js';
import { decodeCannelloni, encodeCannelloni } from '../../../can/transport/cannelloni.js';
import { diagnoseSocketCan } from '../../../can/transport/socketcan.js';

const frame = (id: number, hex: string, extra: Partial<CanFrame> = {}): CanFrame => ({
  id,
  extended: false,
  rtr: false,
  fd: false,
  data: Uint8Array.from(Buffer.from(hex, 'hex')),
  timestampMs: 0,
  ...extra,
});

describe('candump log lines', () => {
  it('reads standard, extended, remote and CAN FD frames with their timestamps', () => {
    expect(parseCandumpLine('(1700000000.000100) can0 040#C700000000000000')).toMatchObject({
      iface: 'can0',
      frame: { id: 0x40, extended: false, timestampMs: 1_700_000_000_000.1 },
    });
    expect(parseCandumpLine('(1.5) vcan0 12345678#0102')?.frame).toMatchObject({
      id: 0x12345678,
      extended: true,
      data: Uint8Array.from([1, 2]),
    });
    expect(parseCandumpLine('(1.000000) can0 523#R')?.frame).toMatchObject({
      rtr: true,
      data: new Uint8Array(0),
    });
    expect(parseCandumpLine(`(1.000000) can0 123##1${'AB'.repeat(12)}`)?.frame).toMatchObject({ fd: true });
    expect(parseCandumpLine('(1.000000) can0 20000080#0000000000000000')).toBeUndefined(); // error frame
  });

  it('refuses lines that are not candump lines, odd hex, and impossible lengths', () => {
    for (const bad of [
      'garbage',
      '(1.0) can0 040#ABC',
      '(1.0) can0 040#' + '00'.repeat(9),
      '(1.0) can0 800#00',
      '(x) can0 040#00',
    ]) {
      expect(() => parseCandumpLine(bad), bad).toThrow();
    }
  });

  it("writes lines that can-utils' own log2long reads back as the same frames", () => {
    const frames = [
      frame(0x40, 'C700000000000000'),
      frame(0x12345678, '0102', { extended: true }),
      frame(0x523, '', { rtr: true }),
    ];
    const log = frames.map((f, i) => `(1700000000.00000${i}) can0 ${formatFrame(f)}`).join('\n') + '\n';
    const long = execFileSync('log2long', { input: log }).toString();
    expect(long).toMatch(/can0\s+040\s+\[8\]\s+C7 00 00 00 00 00 00 00/);
    expect(long).toMatch(/can0\s+12345678\s+\[2\]\s+01 02/);
    expect(long).toMatch(/can0\s+523\s+\[0\]\s+remote request/);
    for (const line of log.trim().split('\n')) {
      expect(formatFrame(parseCandumpLine(line)?.frame as CanFrame)).toBe(line.split(' ')[2]);
    }
  });
});

describe('cannelloni datagrams', () => {
  it('round-trips standard, extended, remote and CAN FD frames', () => {
    const frames = [
      frame(0x40, 'C700000000000000'),
      frame(0x1fffffff, '11', { extended: true }),
      frame(0x7ff, '', { rtr: true }),
      frame(0x123, 'AB'.repeat(64), { fd: true }),
    ];
    const back = decodeCannelloni(encodeCannelloni(frames, 7), 0);
    expect(back.map((f) => [f.id, f.extended, f.rtr, f.fd, Buffer.from(f.data).toString('hex')])).toEqual(
      frames.map((f) => [f.id, f.extended, f.rtr, f.fd, Buffer.from(f.data).toString('hex')]),
    );
  });

  it('lays out the header and frames as cannelloni does: version 2, DATA, seq, count BE; id BE with EFF flag', () => {
    const buf = encodeCannelloni([frame(0x1abcdef0 & 0x1fffffff, '0102', { extended: true })], 5);
    expect(buf.toString('hex')).toBe('0200050001' + '9abcdef0' + '02' + '0102');
  });

  it('drops malformed datagrams with a reason', () => {
    expect(() => decodeCannelloni(Buffer.from([1, 0, 0, 0, 0]), 0)).toThrow(/version 1/);
    expect(() => decodeCannelloni(Buffer.from([2, 1, 0, 0, 0]), 0)).toThrow(/op code 1/);
    expect(() => decodeCannelloni(Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 0x40, 1, 0xaa]), 0)).toThrow(
      /announces 2 frames/,
    );
    expect(() => decodeCannelloni(Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0x40, 8, 0xaa]), 0)).toThrow(
      /runs past the end/,
    );
    expect(() =>
      decodeCannelloni(Buffer.from([2, 0, 0, 0, 1, 0, 0, 0, 0x40, 9, ...new Array<number>(9).fill(0)]), 0),
    ).toThrow(/not a valid CAN length/);
  });
});

describe('SocketCAN diagnosis', () => {
  it('names the missing kernel support or the missing interface instead of "Error while creating channel"', () => {
    const cause = diagnoseSocketCan('can0');
    // This host's kernel has no AF_CAN; under user-mode-linux the interface check is what fails.
    expect(cause).toMatch(/no SocketCAN \(AF_CAN\) support|no network interface named can0/);
    expect(diagnoseSocketCan('can0', '/nonexistent-root')).toMatch(/no SocketCAN/);
  });
});
