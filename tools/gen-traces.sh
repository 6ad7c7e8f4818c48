#!/usr/bin/env bash
# Writes the Mahimahi traces in scenarios/traces from DeliveryTraceGenerator (constant, step, on/off, and a seeded
# Markov-modulated cellular pair), with the arguments listed in Tests/Tcp/Net/ShippedTraceTests.cs. The generator is
# deterministic, so this reproduces the committed files byte for byte; ShippedTraceTests checks that they are.
set -euo pipefail
cd "$(dirname "$0")/.."
BPFSIM_WRITE_TRACES=1 dotnet test Tests/BpfSim.Tests.csproj \
  --filter "FullyQualifiedName=BpfSim.Tests.Tcp.Net.ShippedTraceTests.WriteTraces_WritesTheShippedTraces" "$@"
git --no-pager diff --stat -- scenarios/traces
