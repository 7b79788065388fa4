#!/usr/bin/env bash
# Installs the Debian packages carphone needs to run and to be tested, when they are missing.
#   dbus          private and system message bus (dbus-daemon)
#   kamailio      SIP registrar/proxy the integration tests register with
#   kamailio-tls-modules, openssl  kamailio over TLS, with a certificate the test makes
#   dnsmasq-base  a DNS server with the SRV and A records of a registrar the tests name by host name
#   baresip(-core) far-end SIP phone in the tests
#   python3-dbus  the D-Bus library oFono's own test scripts use: a client nobody wrote for us
#   sox           converts and inspects audio files (tools/ and debugging)
#   sip-tester    SIPp, scripted SIP peers
#   user-mode-linux, kmod, can-utils
#                 a kernel with AF_CAN and vcan for the real SocketCAN test (the host kernel has none),
#                 insmod to load its modules, cansend/candump as independent CAN peers
#   asn1c, gcc    an independent UPER codec for the eCall MSD, compiled from the ASN.1 module by the tests
#   gpsd, gpsd-clients  a real gpsd fed by gpsfake: the eCall's position source in the tests
#   chromium, fonts-dejavu-core  the HMI's renderer in a real browser (driven by playwright-core), with its font
#   clang, lld    build native/ (C) to WebAssembly; CI rebuilds it and checks it matches the committed .wasm
#   g++, make     node-gyp's toolchain for native/udp (the RTP socket addon npm ci builds) and socketcan
#   libspeexdsp-dev  speexdsp's jitter buffer, the peer the jitter-buffer benchmark measures against
#   libopus-dev   Debian's libopus (baresip's): the peer the Opus-encoder benchmark measures against,
#                 and the independent decoder of the in-band FEC test
#   pulseaudio, pulseaudio-utils  a private PulseAudio server for the pulse audio device's tests (its
#                 WebRTC echo canceller too), and pacat/parec, which that device uses on a head unit
#                 (PulseAudio or pipewire-pulse)
#   nftables      the NAT between a car's network namespace and the operator's core in the keep-alive test
#                 (iproute2 makes the namespaces)
#   systemd       systemd-analyze, which checks dist/systemd/carphoned.service as systemd reads it
#   pipewire, pipewire-pulse, wireplumber  a private PipeWire with its session manager and PulseAudio
#                 server: the same device test, against the audio server most new head units run
set -euo pipefail
packages=(dbus kamailio kamailio-tls-modules openssl dnsmasq-base baresip-core python3-dbus sox sip-tester user-mode-linux kmod can-utils iproute2 nftables asn1c gcc gpsd gpsd-clients chromium fonts-dejavu-core clang lld g++ make libspeexdsp-dev libopus-dev pulseaudio pulseaudio-utils pipewire pipewire-pulse wireplumber systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
