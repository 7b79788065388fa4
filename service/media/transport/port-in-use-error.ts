/** A port that could not be bound (taken, or not an address of this host). */
export class PortInUseError extends Error {
  constructor(address: string, port: number, cause: string) {
    super(`cannot bind ${address}:${port}: ${cause}`);
    this.name = 'PortInUseError';
  }
}
