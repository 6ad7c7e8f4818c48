namespace BpfSim.Studies.Runs;

/// <summary>Which table formats a run writes its CSV-shaped outputs in (<c>--format csv,parquet</c>).</summary>
[Flags]
public enum OutputFormats
{
    Csv = 1,
    Parquet = 2,
}
