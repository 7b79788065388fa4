import type { Logger } from '../log/logger.js';
import type { RegistrationStatus } from '../sip/registration.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

export interface RegistrationModel {
  registration: { status: RegistrationStatus; reason: string };
  aor: string;
  registrar: string;
  transport: string;
  localAddress: string;
  publicAddress: string;
  operatorName: string;
  /** The message-summary subscription's state, or "off" (docs/api/sipaccount-api.txt). */
  voicemailSubscription: string;
}

/** oFono's NetworkRegistration Status values for a SIP registration. */
export function networkStatus(s: RegistrationStatus, reason: string): string {
  switch (s) {
    case 'registered':
      return 'registered';
    case 'registering':
      return 'searching';
    case 'failed':
      return /authentication|forbidden/.test(reason) ? 'denied' : 'unknown';
    case 'unregistered':
      return 'unregistered';
  }
}

/** org.ofono.NetworkRegistration: the registration as oFono clients read it (docs/api/networkregistration-api.txt). */
export class NetworkRegistrationInterface extends OfonoInterface {
  constructor(
    private readonly model: RegistrationModel,
    logger: Logger,
  ) {
    super('org.ofono.NetworkRegistration', logger);
  }

  protected properties(): object {
    const r = this.model.registration;
    return {
      Status: networkStatus(r.status, r.reason),
      Mode: 'auto',
      Name: this.model.operatorName,
      Technology: 'sip',
    };
  }
}

/** org.carphone.SipAccount: what a SIP line adds to oFono's view (docs/api/sipaccount-api.txt). */
export class SipAccountInterface extends OfonoInterface {
  constructor(
    private readonly model: RegistrationModel,
    logger: Logger,
  ) {
    super('org.carphone.SipAccount', logger);
  }

  protected properties(): object {
    const r = this.model.registration;
    return {
      Registration: r.status,
      RegistrationError: r.status === 'failed' ? r.reason : '',
      Aor: this.model.aor,
      Registrar: this.model.registrar,
      Transport: this.model.transport,
      LocalAddress: this.model.localAddress,
      PublicAddress: this.model.publicAddress,
      VoicemailSubscription: this.model.voicemailSubscription,
    };
  }
}

defineMembers(NetworkRegistrationInterface, 'org.ofono.NetworkRegistration', {});
defineMembers(SipAccountInterface, 'org.carphone.SipAccount', {});
