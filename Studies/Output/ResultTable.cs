using System.Globalization;
using CsvHelper;
using Parquet;
using Parquet.Schema;

namespace BpfSim.Studies.Output;

/// <summary>
/// A table built column by column, written as CSV or Parquet with the same columns and values, so the CSV a user
/// reads and the Parquet pandas loads never disagree. A column holds strings, 64-bit integers, doubles or booleans.
/// </summary>
public sealed class ResultTable
{
    private readonly List<Column> _columns = [];
    private int _rows;

    /// <summary>The rows added so far.</summary>
    public int RowCount => _rows;

    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToList();

    /// <summary>Adds a column; every column must be added before the first row.</summary>
    /// <exception cref="InvalidOperationException">Rows were already added, or the name is taken.</exception>
    public ResultTable AddColumn(string name, ResultColumnKind kind)
    {
        if (_rows > 0)
        {
            throw new InvalidOperationException("columns are added before the first row");
        }
        if (_columns.Any(c => c.Name == name))
        {
            throw new InvalidOperationException($"column '{name}' is already in the table");
        }
        _columns.Add(new Column(name, kind));
        return this;
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
                cells[i] = Format(_columns[i].Values[r]);
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
                    await group.WriteAsync<double>(fields[i], c.Values.Select(v => v is null ? (double?)null : Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray());
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

    private static string Format(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("0.#########", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.#########", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private sealed class Column(string name, ResultColumnKind kind)
    {
        public string Name { get; } = name;

        public ResultColumnKind Kind { get; } = kind;

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
