#!/usr/bin/env bash
# The README's test command: make sure what some tests need is installed — Chromium to render report.html, clang-14
# and libbpf's headers to rebuild the BPF objects and compile the docs' BPF example — then run every test.
# Extra arguments go to dotnet test (for example --filter "Category=Tcp").
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v clang-14 >/dev/null 2>&1 || missing+=(clang-14)
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tools/test.sh: installing ${missing[*]} (apt-get) for the tests that need them" >&2
    # Refresh the package lists only when they do not know the packages yet.
    if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
      apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "tools/test.sh: warning: ${missing[*]} not installed, so the tests that need them will be skipped" \
      "(Chromium's fails with CI=true); install with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

exec dotnet test Sim.sln "$@"
