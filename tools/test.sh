#!/usr/bin/env bash
# The README's test command: make sure Chromium is there for the report-rendering test, then run every test.
# Extra arguments go to dotnet test (for example --filter "Category=Tcp").
set -euo pipefail
cd "$(dirname "$0")/.."

have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }

if ! have_chromium; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tools/test.sh: installing chromium (apt-get) for the report-rendering test" >&2
    # Refresh the package lists only when they do not know chromium yet.
    if ! apt-cache show chromium >/dev/null 2>&1; then
      apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tools/test.sh: warning: chromium is not installed, so Report_RendersInHeadlessChromium will be skipped" \
      "(or fail, with CI=true); install it with: sudo apt-get install chromium" >&2
  fi
fi

exec dotnet test Sim.sln "$@"
