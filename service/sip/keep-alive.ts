import type * as sip from 'sip';
import { ownFailure } from './stack.js';
import { addressOfHost, endpointText, hostOfAddress } from '../core/ip-address.js';

/**
 * Keep-alives towards the registrar, decided from responses alone (the registrar client sends them).
 *
 * A head unit reaches its registrar through the mobile network's NAT, which forgets an idle UDP mapping
 * after as little as 30 s: from then on the registrar's binding points at a port that leads nowhere, and
 * calls to the car fail until the next REGISTER, minutes later. So while registered, carphone sends an
 * OPTIONS to the registrar every `keepAliveSeconds` (RFC 3261 §11; RFC 5626 §4.4 keeps flows alive the
 * same way with STUN or CRLF, which the sip package gives us no way to send). Its answer says more than
 * a CRLF's would: none at all means the flow is gone (the car changed cells or networks), and a
 * different public address in its Via (received/rport, RFC 3581) means the NAT gave us a new mapping
 * the registrar does not know. Either way the account registers again at once.
 */
export type KeepAliveVerdict =
  { kind: 'alive' } | { kind: 'rebound'; from: string; to: string } | { kind: 'lost'; why: string };

/** Why a keep-alive that timed out (408) is judged lost. */
export const NO_ANSWER = 'no answer';

/** RFC 5626 §4.4.1: each interval a random 80-100 % of the configured one, so that cars do not beat together. */
export function keepAliveDelayMs(intervalSeconds: number, random: () => number): number {
  return Math.round(intervalSeconds * 1000 * (0.8 + 0.2 * random()));
}

/**
 * Where the next hop saw our request come from: the top Via's received and rport (RFC 3581), falling
 * back to what we wrote there. Undefined when the response says nothing about it.
 */
export function publicAddress(rs: sip.Response): string | undefined {
  const via = rs.headers.via?.[0];
  if (!via) {
    return undefined;
  }
  const received = via.params.received;
  const rport = via.params.rport;
  const host = typeof received === 'string' && received !== '' ? received : via.host;
  const port =
    rport !== null && rport !== undefined && /^\d+$/.test(String(rport)) ? Number(rport) : via.port;
  if (!host) {
    return undefined;
  }
  // received is a bare IPv6 address, the Via's host a bracketed one: one spelling for both.
  const address = addressOfHost(host);
  return port ? endpointText(address, port) : hostOfAddress(address);
}

/** What a keep-alive's response says, given the public address the registration was made from. */
export function judgeKeepAlive(rs: sip.Response, registeredFrom: string | undefined): KeepAliveVerdict {
  if (rs.status < 200) {
    return { kind: 'alive' };
  }
  if (rs.status === 408) {
    return { kind: 'lost', why: NO_ANSWER };
  }
  const failure = ownFailure(rs.status, rs.reason);
  if (failure !== undefined) {
    return { kind: 'lost', why: failure };
  }
  const now = publicAddress(rs);
  if (registeredFrom !== undefined && now !== undefined && now !== registeredFrom) {
    return { kind: 'rebound', from: registeredFrom, to: now };
  }
  return { kind: 'alive' };
}

/**
 * What the registrar client does about a verdict. A flow lost registers afresh (the line shows
 * "registering": calls cannot reach it); a rebinding refreshes the registration quietly (the registrar is
 * there, only the binding must follow). A registrar that has never answered a keep-alive may simply not
 * answer OPTIONS: its silence is no sign of a lost flow, and the keep-alives still hold the NAT open,
 * so nothing is done (a lost flow is then noticed at the registration refresh, or by a connection that
 * fails, which is always taken as lost).
 */
export type KeepAliveAction = 'none' | 'refresh' | 'register-afresh';

export function actionFor(verdict: KeepAliveVerdict, answeredBefore: boolean): KeepAliveAction {
  switch (verdict.kind) {
    case 'alive':
      return 'none';
    case 'rebound':
      return 'refresh';
    case 'lost':
      return verdict.why === NO_ANSWER && !answeredBefore ? 'none' : 'register-afresh';
  }
}
