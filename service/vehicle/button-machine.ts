/**
 * One steering-wheel key as a pure machine: samples of "held or not" from usable frames, and clock
 * ticks, become short and long presses. A key whose message stops arriving is released silently.
 */
export type ButtonState = { kind: 'released' } | { kind: 'held'; since: number; longFired: boolean };
export type ButtonEvent =
  { type: 'sample'; held: boolean; at: number } | { type: 'tick'; at: number } | { type: 'invalid' };
export type Press = 'short' | 'long';

export function buttonTransition(
  longPressMs: number,
  s: ButtonState,
  e: ButtonEvent,
): [ButtonState, Press[]] {
  if (e.type === 'invalid') {
    return [{ kind: 'released' }, []];
  }
  if (s.kind === 'released') {
    return e.type === 'sample' && e.held ? [{ kind: 'held', since: e.at, longFired: false }, []] : [s, []];
  }
  if (e.type === 'sample' && !e.held) {
    return [{ kind: 'released' }, s.longFired ? [] : ['short']];
  }
  if (!s.longFired && e.at - s.since >= longPressMs) {
    return [{ ...s, longFired: true }, ['long']];
  }
  return [s, []];
}
