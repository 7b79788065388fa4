import { encodeMessage } from '../../../can/dbc/codec.js';
import { protect, type E2eConfig } from '../../../can/e2e/profiles.js';
import type { CanFrame } from '../../../can/frame.js';
import type { LoadedBindings } from '../../../service/vehicle/bindings-load.js';

/** Builds the frame a car's ECU would send: signals encoded per the DBC, E2E as the bindings declare. */
export function frameFor(
  loaded: LoadedBindings,
  message: string,
  values: Record<string, number>,
  counter = 0,
): CanFrame {
  const def = loaded.db.messages.get(message);
  if (!def) {
    throw new Error(`no message ${message}`);
  }
  const cfg = loaded.bindings.messages[message]?.e2e ?? 'none';
  const e2e: E2eConfig = cfg === 'none' ? { profile: 'none' } : cfg;
  return {
    id: def.id,
    extended: def.extended,
    rtr: false,
    fd: false,
    data: protect(e2e, encodeMessage(def, values), counter),
    timestampMs: 0,
  };
}
