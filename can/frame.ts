/** One CAN or CAN FD frame as every transport delivers it. */
export interface CanFrame {
  /** 11-bit or 29-bit identifier, without flag bits. */
  id: number;
  extended: boolean;
  rtr: boolean;
  /** CAN FD frame (up to 64 data bytes). */
  fd: boolean;
  data: Uint8Array;
  /** Reception time in milliseconds (transport's clock, or the log's timestamps on replay). */
  timestampMs: number;
}

export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;
export const CAN_ERR_FLAG = 0x20000000;
export const CAN_EFF_MASK = 0x1fffffff;
export const CAN_SFF_MASK = 0x7ff;

/** Lengths a CAN FD frame may have (DLC 9-15 map to 12..64). */
export const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

export class CanFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanFrameError';
  }
}

/** Checks a frame's shape; transports call it on everything that enters from outside. */
export function validateFrame(f: CanFrame): void {
  const max = f.extended ? CAN_EFF_MASK : CAN_SFF_MASK;
  if (!Number.isInteger(f.id) || f.id < 0 || f.id > max) {
    throw new CanFrameError(
      `identifier 0x${f.id.toString(16)} out of range for a ${f.extended ? '29' : '11'}-bit frame`,
    );
  }
  if (f.fd ? !FD_LENGTHS.includes(f.data.length) : f.data.length > 8) {
    throw new CanFrameError(`${f.data.length} data bytes is not a valid ${f.fd ? 'CAN FD' : 'CAN'} length`);
  }
}

export function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex').toUpperCase();
}

/** candump's compact notation, e.g. `040#C700000000000000` or `12345678##1AABB`. */
export function formatFrame(f: CanFrame): string {
  const id = f.extended
    ? f.id.toString(16).toUpperCase().padStart(8, '0')
    : f.id.toString(16).toUpperCase().padStart(3, '0');
  if (f.rtr) {
    return `${id}#R`;
  }
  return f.fd ? `${id}##0${hex(f.data)}` : `${id}#${hex(f.data)}`;
}
