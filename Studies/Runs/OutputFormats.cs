namespace BpfSim.Studies.Runs;

/// <summary>Which table formats a run writes its CSV-shaped outputs in (<c>--format csv,parquet</c>).</summary>
[Flags]
public enum OutputFormats
{
    Csv = 1,
    Parquet = 2,
}

/// <summary>Reads the <c>--format</c> / <c>--to</c> value the commands share: <c>csv</c>, <c>parquet</c> or both, comma-separated.</summary>
public static class OutputFormatsText
{
    /// <summary>False, with what is wrong in <paramref name="error"/>, for an unknown or empty list.</summary>
    public static bool TryParse(string text, out OutputFormats formats, out string? error)
    {
        formats = 0;
        error = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            switch (part.ToLowerInvariant())
            {
                case "csv":
                    formats |= OutputFormats.Csv;
                    break;
                case "parquet":
                    formats |= OutputFormats.Parquet;
                    break;
                default:
                    error = $"unknown format '{part}' (csv, parquet, or both: csv,parquet)";
                    return false;
            }
        }
        if (formats == 0)
        {
            error = "name at least one format (csv, parquet)";
            return false;
        }
        return true;
    }
}
