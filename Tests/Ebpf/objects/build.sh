#!/bin/sh
# Builds the test objects from src/ into OUT (default: this folder), with clang-14's default CPU (v1) and -mcpu=v3,
# the flags the reference objects were built with (shared/reference/bpf-objects.md). The .o files are committed, so the
# tests need no clang; Tests/Ebpf/Elf/TestObjectBuildTests rebuilds them and compares.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
clang=${CLANG:-clang-14}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Relative source paths and -fdebug-compilation-dir keep the build folder out of the debug info, so a rebuild
# elsewhere is byte-identical.
cd "$here"
for src in src/*.bpf.c; do
    base=$(basename "$src" .bpf.c)
    "$clang" -g -O2 -target bpf -D__TARGET_ARCH_x86 -fdebug-compilation-dir=. -c "$src" -o "$out/$base.o"
    "$clang" -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 -fdebug-compilation-dir=. -c "$src" -o "$out/$base.v3.o"
done
