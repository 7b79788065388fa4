import { z } from 'zod';

/**
 * What an integrator writes to connect carphone to a car's DBC: which Message.Signal is which key,
 * which signals mean a crash, how each safety message is protected. See can/bindings/*.yaml.
 */
const signalRef = z.string().regex(/^[A-Za-z_]\w*\.[A-Za-z_]\w*$/, 'must name a signal as Message.Signal');

const condition = z
  .strictObject({
    signal: signalRef,
    equals: z.number().optional(),
    atLeast: z.number().optional(),
  })
  .refine(
    (c) => (c.equals === undefined) !== (c.atLeast === undefined),
    'give exactly one of equals or atLeast',
  );

const e2e = z.union([
  z.literal('none'),
  z.strictObject({
    profile: z.literal('P01'),
    dataId: z.number().int().min(0).max(0xffff),
    dataIdMode: z.enum(['both', 'low', 'alt', 'nibble']).default('both'),
  }),
  z.strictObject({
    profile: z.literal('P02'),
    dataIdList: z
      .array(z.number().int().min(0).max(255))
      .length(16, 'must list 16 data IDs, one per counter value'),
  }),
]);

const message = z.strictObject({
  /** Required for every message a binding uses: "none" must be written out for an unprotected one. */
  e2e,
  /** The message is reported invalid (signals unusable) when it has not arrived for this long. */
  timeoutMs: z.number().int().min(10).max(60_000),
  /** Largest counter jump still taken as OK (1: no frame may be lost). */
  maxDeltaCounter: z.number().int().min(1).max(14).default(1),
});

const button = condition;

export const bindingsSchema = z.strictObject({
  /** DBC file, relative to this bindings file. */
  dbc: z.string().min(1),
  messages: z.record(z.string().regex(/^[A-Za-z_]\w*$/), message),
  buttons: z
    .strictObject({
      phone: button.optional(),
      hangup: button.optional(),
      volumeUp: button.optional(),
      volumeDown: button.optional(),
      mute: button.optional(),
      voice: button.optional(),
      longPressMs: z.number().int().min(200).max(5000).default(800),
    })
    .default({ longPressMs: 800 }),
  crash: z
    .strictObject({
      /** Any one of these, in a usable frame, is a crash. */
      triggers: z.array(condition).min(1),
      /** Any one of these makes the frame no crash (actuator test, diagnosis, ACU fault). */
      inhibitors: z.array(condition).default([]),
      /** Consecutive usable frames that must all show the crash before the eCall starts. */
      confirmFrames: z.number().int().min(1).max(20).default(2),
      /** After a trigger, the crash signals must stay clear this long before another crash can trigger. */
      rearmAfterMs: z.number().int().min(1000).default(600_000),
    })
    .optional(),
  sos: z
    .strictObject({
      signal: signalRef,
      equals: z.number(),
      /** How long the button must be held: protection against inadvertent use (UN R144). */
      holdMs: z.number().int().min(500).max(10_000).default(2000),
    })
    .optional(),
  vehicle: z
    .strictObject({
      ignition: condition.optional(),
      speed: signalRef.optional(),
      /** A signal that counts occupants, or conditions (one per seat) whose matches are counted. */
      occupants: z.union([signalRef, z.array(condition)]).optional(),
      propulsion: signalRef.optional(),
      latitude: signalRef.optional(),
      longitude: signalRef.optional(),
    })
    .default({}),
});

export type Bindings = z.infer<typeof bindingsSchema>;
export type Condition = z.infer<typeof condition>;
export type ButtonName = 'phone' | 'hangup' | 'volumeUp' | 'volumeDown' | 'mute' | 'voice';
export const BUTTON_NAMES: ButtonName[] = ['phone', 'hangup', 'volumeUp', 'volumeDown', 'mute', 'voice'];
