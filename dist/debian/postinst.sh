#!/bin/sh
# Installs carphoned's D-Bus policy and systemd unit from the package's resources.
set -e
RES="/opt/carphone/resources"
install -m 0644 "$RES/dbus/org.carphone.conf" /etc/dbus-1/system.d/org.carphone.conf
install -m 0644 "$RES/systemd/carphoned.service" /etc/systemd/system/carphoned.service
getent passwd carphone >/dev/null || useradd --system --home-dir /var/lib/carphone --shell /usr/sbin/nologin carphone
command -v systemctl >/dev/null && systemctl daemon-reload || true
