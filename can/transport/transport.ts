import type { CanFrame } from '../frame.js';

/** Where frames come from: the car's bus, a recorded log, or a gateway on the network. */
export interface CanTransport {
  /** e.g. "socketcan:can0", "replay:drive.log", "udp:127.0.0.1:20000" */
  readonly description: string;
  /** Starts delivering frames. Rejects with a CanTransportError naming the cause when it cannot. */
  start(onFrame: (frame: CanFrame) => void, onError: (e: Error) => void): Promise<void>;
  stop(): Promise<void>;
}

export class CanTransportError extends Error {
  constructor(
    readonly transport: string,
    problem: string,
  ) {
    super(`${transport}: ${problem}`);
    this.name = 'CanTransportError';
  }
}
