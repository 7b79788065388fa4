import { setFlagsFromString } from 'node:v8';

/**
 * V8 optimises a function once it has run a budget of bytecode (66 KB by default, at least three times over).
 * The media path's functions run 50 times a second and are small, so they took most of a call's first
 * minute to be optimised, and a call's first minute cost about one and a half times what the rest did.
 * With an eighth of the budget, a daemon's first minute of call cost 0.88 of an unchanged daemon's in
 * the same calls (eight paired runs, docs/performance.md). The budget is read whenever a function's
 * counter is reset, so setting it after start takes effect for every function.
 */
export const INTERRUPT_BUDGET_BYTES = 8 * 1024;

export function optimiseHotCodeSooner(): void {
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET_BYTES}`);
}
