/** A DBC database as carphone uses it: messages by id, signals with their bit layout and scaling. */
export type ByteOrder = 'intel' | 'motorola';

export interface SignalDef {
  name: string;
  /** DBC start bit: the LSB for Intel, the MSB (sawtooth numbering) for Motorola. */
  startBit: number;
  length: number;
  byteOrder: ByteOrder;
  signed: boolean;
  /** IEEE float signals (SIG_VALTYPE_ 1 = float32, 2 = float64). */
  float?: 32 | 64;
  factor: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  /** This signal selects which multiplexed signals are present. */
  isMultiplexer: boolean;
  /** Present only when the multiplexer has this value. */
  multiplexValue?: number;
  values: Map<number, string>;
  comment?: string;
}

export interface MessageDef {
  /** Identifier without the DBC's extended flag (bit 31). */
  id: number;
  extended: boolean;
  name: string;
  length: number;
  sender: string;
  signals: Map<string, SignalDef>;
  comment?: string;
}

export interface Database {
  messages: Map<string, MessageDef>;
  byId: Map<string, MessageDef>;
}

export function messageKey(id: number, extended: boolean): string {
  return `${extended ? 'x' : 's'}${id}`;
}
