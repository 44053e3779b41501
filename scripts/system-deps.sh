#!/usr/bin/env bash
# What the platform itself needs from Debian (run by scripts/setup.sh, so by `make demo` and `make test`):
# Pango for WeasyPrint's PDF documents, fontconfig and the Noto CJK fonts so Chinese renders in
# documents and seals; ffmpeg for the key frames of inspection videos. Installs only what is missing;
# no network when nothing is.
set -euo pipefail
missing=()
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v fc-match >/dev/null || missing+=(fontconfig)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
fc-list 2>/dev/null | grep -qi "Noto Serif CJK" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "» installing ${missing[*]} (apt-get)…"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
