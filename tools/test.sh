#!/usr/bin/env bash
# The README's test command: make sure what some tests need is installed — Chromium to render report.html, clang-14
# and libbpf's headers to rebuild the BPF objects and compile the docs' BPF example, tshark to read --pcap files,
# python3-msgpack and python3-pandas for docs/traces.md's snippet, Slurm and munge for the test that runs a sweep as a
# job array on a localhost cluster (tools/slurm/localhost-cluster.sh), the kernel's tools/sched_ext — then run every
# test.
# Extra arguments go to dotnet test (for example --filter "Category=Tcp").
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; } # daemons live in sbin, off users' PATH
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v clang-14 >/dev/null 2>&1 || missing+=(clang-14)
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
# docs/traces.md's Python snippet, which a test runs on a real trace.
# (Debian's packages serve /usr/bin/python3, which a pyenv or venv python3 on PATH may hide; the test tries both.)
{ python3 -c 'import msgpack, pandas' || /usr/bin/python3 -c 'import msgpack, pandas'; } >/dev/null 2>&1 ||
  missing+=(python3-msgpack python3-pandas)
have slurmctld && have slurmd && have sbatch || missing+=(slurm-wlm)
have munged || missing+=(munge)

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

# The kernel's own sched_ext schedulers (tools/sched_ext of Debian's linux-source-6.12) are built and run by some
# tests, never committed: fetch that subtree once into a cache unless BPFSIM_LINUX_SRC already names a tree.
if [ -z "${BPFSIM_LINUX_SRC:-}" ] && [ ! -f /tmp/k/src/linux-source-6.12/tools/sched_ext/scx_simple.bpf.c ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/bpfsim/linux"
  if [ ! -f "$cache/linux-source-6.12/tools/sched_ext/scx_simple.bpf.c" ] && command -v apt-get >/dev/null 2>&1; then
    echo "tools/test.sh: fetching tools/sched_ext of linux-source-6.12 (apt-get download) into $cache" >&2
    tmp="$(mktemp -d)"
    if (cd "$tmp" && apt-get download -qq linux-source-6.12 >/dev/null 2>&1) ||
       (apt-get update -qq && cd "$tmp" && apt-get download -qq linux-source-6.12 >/dev/null 2>&1); then
      mkdir -p "$cache"
      dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.12_*.deb | tar -x --wildcards '*/linux-source-6.12.tar.xz' -O |
        tar -xJ -C "$cache" --wildcards 'linux-source-6.12/tools/sched_ext/*' || true
    fi
    rm -rf "$tmp"
  fi
  if [ -f "$cache/linux-source-6.12/tools/sched_ext/scx_simple.bpf.c" ]; then
    export BPFSIM_LINUX_SRC="$cache/linux-source-6.12"
  else
    echo "tools/test.sh: warning: linux-source-6.12 is not available, so the tests that build the kernel's sched_ext" \
      "schedulers will be skipped (set BPFSIM_LINUX_SRC to an unpacked tree)" >&2
  fi
fi

exec dotnet test Sim.sln "$@"
