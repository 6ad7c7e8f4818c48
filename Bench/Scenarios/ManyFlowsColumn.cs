using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BpfSim.Bench.Scenarios;

/// <summary>A <see cref="ManyFlowsBench"/> column: a value of the case's last run, by its Flows and Start parameters.</summary>
internal sealed class ManyFlowsColumn(string name, Func<int, ManyFlowsBench.CaseResult, string> value) : IColumn
{
    public string Id => "ManyFlows." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"{name} (ManyFlowsBench, the case's last run)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        int flows = (int)benchmarkCase.Parameters["Flows"];
        var start = (ManyFlowsBench.StartMode)benchmarkCase.Parameters["Start"];
        return ManyFlowsBench.Results.TryGetValue((flows, start), out var r) ? value(flows, r) : "-";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
