#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (Blender, Chromium,
# bubblewrap for Blender's sandbox, systemd for systemd-analyze), when they are missing.
# Runs before `npm test`; needs root (or sudo) on Debian.
set -euo pipefail
missing=()
command -v blender >/dev/null 2>&1 || missing+=(blender)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v zip >/dev/null 2>&1 || missing+=(zip)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
