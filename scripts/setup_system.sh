#!/usr/bin/env bash
# Install the Debian packages Huiyi needs, only those missing: Chromium (browser tests),
# LibreOffice headless (document conversion), Noto CJK fonts (Chinese in posters and previews),
# poppler-utils (looking at PDFs). Never downloads a browser of its own.
set -euo pipefail

missing=()
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
