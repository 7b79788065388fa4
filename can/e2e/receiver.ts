import { counterModulus, CRC_BYTE, expectedCrc, readCounter, type E2eConfig } from './profiles.js';

/**
 * The receiving side of E2E protection as a pure machine: each frame (or each missed cycle) yields a
 * check status as AUTOSAR's E2E_PxxCheck does, and a windowed state machine (E2E_SMCheck) decides
 * whether the data stream as a whole can be trusted. Only data with status OK while the state
 * machine is VALID may be used.
 */
export type E2eStatus = 'OK' | 'REPEATED' | 'WRONG_SEQUENCE' | 'ERROR' | 'NO_NEW_DATA';
export type E2eSmState = 'NODATA' | 'INIT' | 'VALID' | 'INVALID';

export interface E2eReceiverConfig {
  e2e: E2eConfig;
  /** Frame length the sender uses (the DBC's); any other length is ERROR. */
  length: number;
  /** Largest counter jump still taken as OK (some frames lost). 1 means no loss tolerated. */
  maxDeltaCounter: number;
  window: number;
  minOkInit: number;
  minOkValid: number;
  minOkInvalid: number;
  maxErrorInit: number;
  maxErrorValid: number;
  maxErrorInvalid: number;
}

export const defaultSm = {
  maxDeltaCounter: 1,
  window: 4,
  minOkInit: 2,
  minOkValid: 2,
  minOkInvalid: 3,
  maxErrorInit: 0,
  maxErrorValid: 1,
  maxErrorInvalid: 0,
} as const;

export interface E2eReceiverState {
  lastCounter: number | undefined;
  recent: E2eStatus[];
  sm: E2eSmState;
}

export const initialReceiverState: E2eReceiverState = { lastCounter: undefined, recent: [], sm: 'NODATA' };

export interface E2eResult {
  status: E2eStatus;
  sm: E2eSmState;
  /** Frames lost before this one, when the counter jumped by more than one but within tolerance. */
  lost: number;
  /** Whether this frame's data may be used. */
  usable: boolean;
}

function frameStatus(
  cfg: E2eReceiverConfig,
  state: E2eReceiverState,
  data: Uint8Array,
): { status: E2eStatus; lost: number; counter?: number } {
  if (data.length !== cfg.length) {
    return { status: 'ERROR', lost: 0 };
  }
  if (cfg.e2e.profile === 'none') {
    return { status: 'OK', lost: 0 };
  }
  if ((data[CRC_BYTE] ?? -1) !== expectedCrc(cfg.e2e, data)) {
    return { status: 'ERROR', lost: 0 };
  }
  const counter = readCounter(data);
  const modulus = counterModulus(cfg.e2e);
  if (counter >= modulus) {
    return { status: 'ERROR', lost: 0 };
  }
  if (
    cfg.e2e.profile === 'P01' &&
    cfg.e2e.dataIdMode === 'nibble' &&
    (data[1] ?? 0) >> 4 !== ((cfg.e2e.dataId >> 8) & 0x0f)
  ) {
    return { status: 'ERROR', lost: 0 };
  }
  // Before the first frame AUTOSAR's check state holds the counter's maximum: a stream that starts at
  // 0 is in sequence at once; one joined midway needs one more frame.
  const last = state.lastCounter ?? modulus - 1;
  const delta = (counter - last + modulus) % modulus;
  if (delta === 0) {
    return { status: 'REPEATED', lost: 0, counter };
  }
  if (delta <= cfg.maxDeltaCounter) {
    return { status: 'OK', lost: delta - 1, counter };
  }
  return { status: 'WRONG_SEQUENCE', lost: 0, counter };
}

function nextSm(cfg: E2eReceiverConfig, sm: E2eSmState, recent: E2eStatus[], status: E2eStatus): E2eSmState {
  const ok = recent.filter((s) => s === 'OK').length;
  const errors = recent.filter((s) => s === 'ERROR' || s === 'WRONG_SEQUENCE').length;
  switch (sm) {
    case 'NODATA':
      return status !== 'ERROR' && status !== 'NO_NEW_DATA' ? 'INIT' : 'NODATA';
    case 'INIT':
      if (errors > cfg.maxErrorInit) {
        return 'INVALID';
      }
      return ok >= cfg.minOkInit ? 'VALID' : 'INIT';
    case 'VALID':
      return ok >= cfg.minOkValid && errors <= cfg.maxErrorValid ? 'VALID' : 'INVALID';
    case 'INVALID':
      return ok >= cfg.minOkInvalid && errors <= cfg.maxErrorInvalid ? 'VALID' : 'INVALID';
  }
}

function record(
  cfg: E2eReceiverConfig,
  state: E2eReceiverState,
  status: E2eStatus,
  lost: number,
  counter: number | undefined,
): [E2eReceiverState, E2eResult] {
  const recent = [...state.recent, status].slice(-cfg.window);
  const sm = nextSm(cfg, state.sm, recent, status);
  // The counter follows every frame whose CRC was good, as E2E_P02Check does.
  const lastCounter = counter ?? state.lastCounter;
  return [
    { lastCounter, recent, sm },
    { status, sm, lost, usable: status === 'OK' && sm === 'VALID' },
  ];
}

export function checkFrame(
  cfg: E2eReceiverConfig,
  state: E2eReceiverState,
  data: Uint8Array,
): [E2eReceiverState, E2eResult] {
  const { status, lost, counter } = frameStatus(cfg, state, data);
  return record(cfg, state, status, lost, counter);
}

/** A receive cycle passed with no frame: the message has stopped arriving. */
export function checkNoData(cfg: E2eReceiverConfig, state: E2eReceiverState): [E2eReceiverState, E2eResult] {
  return record(cfg, state, 'NO_NEW_DATA', 0, undefined);
}
