#!/bin/sh
# Installs carphoned's D-Bus policy and systemd unit from the package's resources.
set -e
RES="/opt/carphone/resources"
# The service's user (and its group), and the group whose members may talk to carphoned (the HMI's
# user, integrators' tools): dist/dbus/org.carphone.conf names both. dbus-daemon looks the names up
# when it reads its configuration, so they must exist before the policy file does.
getent group carphone-clients >/dev/null || groupadd --system carphone-clients
getent passwd carphone >/dev/null ||
  useradd --system --user-group --home-dir /var/lib/carphone --no-create-home --shell /usr/sbin/nologin carphone
install -D -m 0644 "$RES/dbus/org.carphone.conf" /etc/dbus-1/system.d/org.carphone.conf
install -D -m 0644 "$RES/systemd/carphoned.service" /etc/systemd/system/carphoned.service
# A running system bus reads its policy again; without one (an image being built) there is nothing to tell.
dbus-send --system --type=method_call --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig 2>/dev/null || true
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi
