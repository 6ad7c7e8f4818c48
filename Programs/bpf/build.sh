#!/bin/sh
# Builds bpfsim's own BPF consumers, Programs/bpf/*.bpf.c, into OUT (default: Programs/bpf/obj) with clang-14's
# default CPU (v1), and bpf_cubic and scx_simple once more with -mcpu=v3 (what tools/sched_ext's Makefile uses). The objects are committed, so bpfsim and its tests need
# no clang; Tests/Programs/BpfObjectsBuildTests rebuilds them with this script and compares byte for byte.
#
# vmlinux.h is generated from bpfsim, not from a Linux kernel; regenerate it (and rebuild) after a change to
# bpfsim's kernel BTF (Subsystems/Tcp/Stack/TcpKernelTypes.cs, TcpCongestionOpsBtf.cs, Subsystems/Scheduler/Btf/*):
#     dotnet run --project Cli -- btf dump --format c -o Programs/bpf/vmlinux.h
# (BPFSIM_REGEN_VMLINUX=1 sh Programs/bpf/build.sh does that first; a test checks the committed header is current.)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/obj}
clang=${CLANG:-clang-14}
if [ "${BPFSIM_REGEN_VMLINUX:-0}" = 1 ]; then
    (cd "$here/../.." && dotnet run --project Cli -- btf dump --format c -o Programs/bpf/vmlinux.h)
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Relative source and include paths and -fdebug-compilation-dir keep the checkout's folder out of the debug info,
# so a rebuild anywhere is byte-identical.
cd "$here"
flags="-g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -fdebug-compilation-dir=. -I ."
for src in *.bpf.c; do
    base=$(basename "$src" .bpf.c)
    # shellcheck disable=SC2086
    "$clang" $flags -c "$src" -o "$out/$base.bpf.o"
done
# shellcheck disable=SC2086
"$clang" $flags -mcpu=v3 -c bpf_cubic.bpf.c -o "$out/bpf_cubic.v3.bpf.o"
# shellcheck disable=SC2086
"$clang" $flags -mcpu=v3 -c scx_simple.bpf.c -o "$out/scx_simple.v3.bpf.o"
