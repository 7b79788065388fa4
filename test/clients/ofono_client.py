#!/usr/bin/python3
"""A plain oFono client written with Debian's python3-dbus, the library oFono's own test scripts use.

It knows nothing about carphone: it talks to org.ofono on the system bus (DBUS_SYSTEM_BUS_ADDRESS
points it at the test's private bus) exactly as an existing IVI client would.

    ofono_client.py list-modems | dial NUMBER | list-calls | hangup-all
                    | create-multiparty | private-chat CALL | hangup-multiparty
                    | send-sms TO TEXT DELIVERY_REPORTS(0|1)
"""
import sys
import dbus


def manager(bus):
    return dbus.Interface(bus.get_object('org.ofono', '/'), 'org.ofono.Manager')


def first_voice_modem(bus):
    for path, props in manager(bus).GetModems():
        if 'org.ofono.VoiceCallManager' in props['Interfaces']:
            return path
    sys.exit('no modem with VoiceCallManager')


def main():
    bus = dbus.SystemBus()
    cmd = sys.argv[1]
    if cmd == 'list-modems':
        for path, props in manager(bus).GetModems():
            print('[ %s ]' % path)
            for key in sorted(props):
                value = props[key]
                if key in ('Interfaces', 'Features'):
                    value = ' '.join(str(v) for v in value)
                print('    %s = %s' % (key, value))
            for iface in props['Interfaces']:
                obj = dbus.Interface(bus.get_object('org.ofono', path), iface)
                for key, value in sorted(obj.GetProperties().items()):
                    if key == 'EmergencyNumbers':
                        value = ' '.join(str(v) for v in value)
                    print('    [%s] %s = %s' % (iface.split('.')[-1], key, value))
    elif cmd == 'dial':
        vcm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.VoiceCallManager')
        print(vcm.Dial(sys.argv[2], 'default'))
    elif cmd == 'list-calls':
        vcm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.VoiceCallManager')
        for path, props in vcm.GetCalls():
            print('[ %s ]' % path)
            for key in sorted(props):
                print('    %s = %s' % (key, props[key]))
    elif cmd == 'hangup-all':
        vcm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.VoiceCallManager')
        vcm.HangupAll()
    elif cmd == 'create-multiparty':
        vcm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.VoiceCallManager')
        for path in vcm.CreateMultiparty():
            print(path)
    elif cmd == 'private-chat':
        # The call's modem is its path up to the second slash, as oFono's clients take it.
        call = sys.argv[2]
        modem = call[: call.index('/', 1)]
        vcm = dbus.Interface(bus.get_object('org.ofono', modem), 'org.ofono.VoiceCallManager')
        for path in vcm.PrivateChat(dbus.ObjectPath(call), timeout=100):
            print(path)
    elif cmd == 'hangup-multiparty':
        vcm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.VoiceCallManager')
        vcm.HangupMultiparty()
    elif cmd == 'send-sms':
        # As oFono's own test/send-sms does it: delivery reports chosen first, then the message.
        sm = dbus.Interface(bus.get_object('org.ofono', first_voice_modem(bus)), 'org.ofono.MessageManager')
        sm.SetProperty('UseDeliveryReports', dbus.Boolean(int(sys.argv[4])))
        print(sm.SendMessage(sys.argv[2], sys.argv[3]))
    else:
        sys.exit('unknown command %s' % cmd)


if __name__ == '__main__':
    try:
        main()
    except dbus.exceptions.DBusException as e:
        print('%s: %s' % (e.get_dbus_name(), e.get_dbus_message()), file=sys.stderr)
        sys.exit(1)
