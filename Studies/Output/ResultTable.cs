using System.Globalization;
using BpfSim.Studies.Runs;
using CsvHelper;
using Parquet;
using Parquet.Schema;

namespace BpfSim.Studies.Output;

/// <summary>
/// A table built column by column, written as CSV or Parquet with the same columns and values, so the CSV a user
/// reads and the Parquet pandas loads never disagree. A column holds strings, 64-bit integers, doubles or booleans.
/// A double column has a number of decimals: the CSV cell is the value rounded to them, and the Parquet value is that
/// cell read back, so the two hold the same number.
/// </summary>
public sealed class ResultTable
{
    private readonly List<Column> _columns = [];
    private int _rows;

    /// <summary>The rows added so far.</summary>
    public int RowCount => _rows;

    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToList();

    /// <summary>Adds a column; every column must be added before the first row.</summary>
    /// <param name="name">The header.</param>
    /// <param name="kind">What the column holds.</param>
    /// <param name="decimals">For a double column, the most decimals written (trailing zeros dropped); 0 to 15.</param>
    /// <exception cref="InvalidOperationException">Rows were already added, or the name is taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decimals"/> is outside 0..15.</exception>
    public ResultTable AddColumn(string name, ResultColumnKind kind, int decimals = 9)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, 15);
        if (_rows > 0)
        {
            throw new InvalidOperationException("columns are added before the first row");
        }
        if (_columns.Any(c => c.Name == name))
        {
            throw new InvalidOperationException($"column '{name}' is already in the table");
        }
        _columns.Add(new Column(name, kind, decimals == 0 ? "0" : "0." + new string('#', decimals)));
        return this;
    }

    /// <summary>
    /// Writes the table as <paramref name="name"/>.csv and/or <paramref name="name"/>.parquet in
    /// <paramref name="directory"/>, as <paramref name="formats"/> says, and returns the paths written.
    /// </summary>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public IReadOnlyList<string> Write(string directory, string name, OutputFormats formats)
    {
        var written = new List<string>(2);
        if ((formats & OutputFormats.Csv) != 0)
        {
            var path = System.IO.Path.Combine(directory, name + ".csv");
            WriteCsv(path);
            written.Add(path);
        }
        if ((formats & OutputFormats.Parquet) != 0)
        {
            var path = System.IO.Path.Combine(directory, name + ".parquet");
            WriteParquet(path);
            written.Add(path);
        }
        return written;
    }

    /// <summary>
    /// Adds a row: one value per column, in column order; a string column takes a string, an integer column a long or
    /// an int, a double column any number, a boolean column a bool. Null is an empty cell (a Parquet null).
    /// </summary>
    /// <exception cref="ArgumentException">The row has the wrong number of values or a value of the wrong type.</exception>
    public void AddRow(params object?[] values)
    {
        if (values.Length != _columns.Count)
        {
            throw new ArgumentException($"a row of {_columns.Count} values was expected, not {values.Length}", nameof(values));
        }
        for (int i = 0; i < values.Length; i++)
        {
            _columns[i].Check(values[i]);
        }
        for (int i = 0; i < values.Length; i++)
        {
            _columns[i].Values.Add(values[i]);
        }
        _rows++;
    }

    /// <summary>Writes the table as CSV (invariant culture, a header line, doubles with up to 9 decimals).</summary>
    public void WriteCsv(string path)
    {
        using var csv = CsvWriter.Create(new StreamWriter(path), null, leaveOpen: false);
        csv.WriteHeader(_columns.Select(c => c.Name).ToArray());
        var cells = new string[_columns.Count];
        for (int r = 0; r < _rows; r++)
        {
            for (int i = 0; i < cells.Length; i++)
            {
                cells[i] = _columns[i].Format(_columns[i].Values[r]);
            }
            csv.WriteRecord(cells);
        }
    }

    /// <summary>Writes the table as Parquet: one row group, typed columns (string, int64, double, boolean; all nullable).</summary>
    public void WriteParquet(string path) => WriteParquetAsync(path).GetAwaiter().GetResult();

    private async Task WriteParquetAsync(string path)
    {
        var fields = _columns.Select(c => (DataField)(c.Kind switch
        {
            ResultColumnKind.Integer => new DataField<long?>(c.Name),
            ResultColumnKind.Double => new DataField<double?>(c.Name),
            ResultColumnKind.Boolean => new DataField<bool?>(c.Name),
            _ => new DataField<string>(c.Name),
        })).ToArray();
        var schema = new ParquetSchema(fields);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream);
        using var group = writer.CreateRowGroup();
        for (int i = 0; i < _columns.Count; i++)
        {
            var c = _columns[i];
            switch (c.Kind)
            {
                case ResultColumnKind.Integer:
                    await group.WriteAsync<long>(fields[i], c.Values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray());
                    break;
                case ResultColumnKind.Double:
                    // The CSV cell read back: both formats hold the number the CSV shows.
                    await group.WriteAsync<double>(fields[i], c.Values.Select(v => v is null ? (double?)null
                        : double.Parse(c.Format(v), NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray());
                    break;
                case ResultColumnKind.Boolean:
                    await group.WriteAsync<bool>(fields[i], c.Values.Select(v => (bool?)v).ToArray());
                    break;
                default:
                    await group.WriteAsync(fields[i], c.Values.Select(v => (string)v!).ToArray());
                    break;
            }
        }
    }

    private sealed class Column(string name, ResultColumnKind kind, string doubleFormat)
    {
        public string Name { get; } = name;

        public ResultColumnKind Kind { get; } = kind;

        /// <summary>The CSV text of a cell of this column.</summary>
        public string Format(object? value) => value switch
        {
            null => "",
            string s => s,
            bool b => b ? "true" : "false",
            double d => d.ToString(doubleFormat, CultureInfo.InvariantCulture),
            float f => ((double)f).ToString(doubleFormat, CultureInfo.InvariantCulture),
            IFormattable f when Kind == ResultColumnKind.Double => Convert.ToDouble(f, CultureInfo.InvariantCulture).ToString(doubleFormat, CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };

        public List<object?> Values { get; } = [];

        public void Check(object? value)
        {
            bool ok = value is null || Kind switch
            {
                ResultColumnKind.String => value is string,
                ResultColumnKind.Integer => value is long or int or short or byte or uint or ushort,
                ResultColumnKind.Double => value is double or float or long or int,
                ResultColumnKind.Boolean => value is bool,
                _ => false,
            };
            if (!ok)
            {
                throw new ArgumentException($"column '{Name}' holds {Kind} values, not {value!.GetType().Name}");
            }
        }
    }
}

/// <summary>What a <see cref="ResultTable"/> column holds.</summary>
public enum ResultColumnKind
{
    String,
    Integer,
    Double,
    Boolean,
}
