import type { ResolvedHop } from './next-hop-resolver.js';

/**
 * How long a target that could not be reached goes to the back of the list. A registrar's refresh,
 * re-REGISTER after a challenge, or a call's INVITE soon after would otherwise wait for the same dead
 * target again (32 s over UDP) before reaching the one that answers.
 */
export const UNREACHABLE_FOR_MS = 5 * 60_000;

/**
 * The SRV targets that recently could not be reached (RFC 3263 §4.3 leaves it to the client how long
 * to remember): tried after the others, in their DNS order, until their time is up; never dropped, so
 * a request still goes somewhere when every target is down.
 */
export class UnreachableTargets {
  private readonly until = new Map<string, number>();

  /** A monotonic clock: a head unit's wall clock jumps when GNSS or the network first sets it. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  mark(target: ResolvedHop): void {
    this.until.set(key(target), this.now() + UNREACHABLE_FOR_MS);
  }

  /** Reachable ones first, each group in the order given. */
  order(targets: readonly ResolvedHop[]): ResolvedHop[] {
    const now = this.now();
    for (const [k, t] of this.until) {
      if (t <= now) {
        this.until.delete(k);
      }
    }
    const down = (t: ResolvedHop): boolean => this.until.has(key(t));
    return [...targets.filter((t) => !down(t)), ...targets.filter(down)];
  }
}

function key(t: ResolvedHop): string {
  return `${t.protocol} ${t.address}:${t.port}`;
}
