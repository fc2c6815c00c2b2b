#!/bin/sh
# Installs Debian's InfluxDB 1.x (`influxdb`), for the v2-API tests `victoria-metrics`, for the
# scrape test `prometheus` (with promtool), and for the browser tests `chromium` (driven by
# playwright-core; never a browser download), when their binaries are missing. Needs root or sudo.
# Usage: install-servers.sh [influxdb] [victoria-metrics] [prometheus] [chromium]
set -eu
[ $# -gt 0 ] || set -- influxdb victoria-metrics prometheus chromium
need=""
for pkg in "$@"; do
  case "$pkg" in
    influxdb) bin=influxd ;;
    victoria-metrics) bin=victoria-metrics ;;
    prometheus) bin=promtool ;;
    chromium) bin=chromium ;;
    *) echo "install-servers: unknown package $pkg" >&2; exit 2 ;;
  esac
  command -v "$bin" >/dev/null 2>&1 || need="$need $pkg"
done
[ -n "$need" ] || exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-servers: need root (or sudo) to apt-get install$need" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing$need with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# The packages' post-install tries to start a system service; without an init system that is
# refused harmlessly. The demo and the tests start the servers themselves.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
