using System.Globalization;
using Parquet;

namespace BpfSim.Tests.Studies.Output;

/// <summary>A Parquet file read back with Parquet.Net's reader: column names, CLR types and cells (null for a null).</summary>
internal sealed record ParquetTable(List<string> Columns, IReadOnlyList<Type> Types, IReadOnlyList<object?[]> Rows)
{
    public static ParquetTable Read(string path) => ReadAsync(path).GetAwaiter().GetResult();

    private static async Task<ParquetTable> ReadAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        var rows = new List<object?[]>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            var columns = new object?[fields.Length][];
            for (int c = 0; c < fields.Length; c++)
            {
                var f = fields[c];
                columns[c] = f.ClrType == typeof(long) ? await Read<long>(group, f, n)
                    : f.ClrType == typeof(double) ? await Read<double>(group, f, n)
                    : f.ClrType == typeof(bool) ? await Read<bool>(group, f, n)
                    : await ReadStrings(group, f, n);
            }
            for (int r = 0; r < n; r++)
            {
                rows.Add(columns.Select(col => col[r]).ToArray());
            }
        }
        return new ParquetTable(fields.Select(f => f.Name).ToList(), fields.Select(f => f.ClrType).ToList(), rows);
    }

    private static async Task<object?[]> Read<T>(ParquetRowGroupReader group, Parquet.Schema.DataField field, int n) where T : struct
    {
        var values = new T?[n];
        await group.ReadAsync<T>(field, values.AsMemory());
        return values.Select(v => v.HasValue ? (object)v.Value : null).ToArray();
    }

    private static async Task<object?[]> ReadStrings(ParquetRowGroupReader group, Parquet.Schema.DataField field, int n)
    {
        var values = new string?[n];
        await group.ReadAsync(field, values.AsMemory());
        return values.Cast<object?>().ToArray();
    }

    /// <summary>
    /// Asserts the CSV at <paramref name="csvPath"/> and this table hold the same header and, cell by cell, the same
    /// values: a string equal to the CSV text, an integer or boolean that prints as it, a double equal to the CSV number
    /// parsed, a null where the CSV cell is empty.
    /// </summary>
    public void AssertSameAs(string csvPath)
    {
        var lines = File.ReadAllLines(csvPath);
        Assert.That(lines[0].Split(','), Is.EqualTo(Columns), $"{csvPath}: header");
        Assert.That(Rows, Has.Count.EqualTo(lines.Length - 1), $"{csvPath}: rows");
        for (int r = 0; r < Rows.Count; r++)
        {
            var cells = lines[r + 1].Split(','); // no value bpfsim writes contains a comma or a quote
            Assert.That(cells, Has.Length.EqualTo(Columns.Count), $"{csvPath} row {r + 1}");
            for (int c = 0; c < cells.Length; c++)
            {
                var value = Rows[r][c];
                string where = $"{csvPath} row {r + 1} column {Columns[c]}";
                if (value is null)
                {
                    Assert.That(cells[c], Is.Empty, where);
                }
                else if (value is double d)
                {
                    Assert.That(d, Is.EqualTo(double.Parse(cells[c], CultureInfo.InvariantCulture)), where);
                }
                else if (value is bool b)
                {
                    Assert.That(cells[c], Is.EqualTo(b ? "true" : "false"), where);
                }
                else
                {
                    Assert.That(cells[c], Is.EqualTo(Convert.ToString(value, CultureInfo.InvariantCulture)), where);
                }
            }
        }
    }
}
