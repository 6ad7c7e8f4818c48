#!/usr/bin/env bash
# Rewrites Tests/Cli/golden/summary_small.json from the code as it is now, for after an intended change to a
# simulation result or the summary's shape. Review `git diff Tests/Cli/golden` before committing: the golden test
# itself never writes the file.
set -euo pipefail
cd "$(dirname "$0")/.."
BPFSIM_UPDATE_GOLDEN=1 dotnet test Tests/BpfSim.Tests.csproj \
  --filter "FullyQualifiedName=BpfSim.Tests.Cli.GoldenSummaryTests.UpdateGolden_RewritesTheGoldenFile" "$@"
git --no-pager diff --stat -- Tests/Cli/golden/summary_small.json
