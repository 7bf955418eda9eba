#!/usr/bin/env bash
# Install the Debian packages Huiyi needs, only those missing: Chromium (browser tests),
# LibreOffice headless (document conversion), Noto CJK fonts (Chinese in posters and previews),
# poppler-utils (looking at PDFs). Never downloads a browser of its own.
set -euo pipefail

missing=()

# --- issue 20: the local HA cluster and its drills (scripts/cluster, scripts/drills) ---------------
# Only with --cluster (the cluster script, the drills and their test ask for it), so that `make run`
# on a fresh machine installs nothing more: pg_auto_failover for this machine's PostgreSQL major,
# HAProxy, Redis Sentinel, iproute2 (network namespaces).
if [ "${1:-}" = "--cluster" ]; then
  pg_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1)
  command -v pg_autoctl >/dev/null 2>&1 || missing+=(pg-auto-failover-cli ${pg_major:+postgresql-$pg_major-auto-failover})
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  if [ ${#missing[@]} -eq 0 ]; then
    exit 0
  fi
  echo "Installing the cluster's system packages: ${missing[*]}"
  SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
  $SUDO apt-get update -qq
  # Debian's packages would start their own haproxy and redis-sentinel services: the cluster runs
  # its own, so the install must not leave a second one running. Debian's way to say so is a
  # policy-rc.d that answers "no" (containers usually have one); one made here is removed after.
  if [ "$(id -u)" -eq 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  exit 0
fi
# ----------------------------------------------------------------------------------------------------
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui)
# Read fc-list whole before matching: `fc-list | grep -q` under pipefail fails whenever grep quits at
# the first match and fc-list dies of SIGPIPE, which made every other run "install" the fonts again.
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)
fonts=$(fc-list : family 2>/dev/null || true)
[[ $fonts == *"Noto Sans CJK"* ]] || missing+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
