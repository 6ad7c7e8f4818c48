using System.Text.Json.Nodes;
using BpfSim.Studies.Output;
using BpfSim.Studies.Runs;
using MessagePack;

namespace BpfSim.Studies.Traces;

/// <summary>
/// Reads a trace folder (<c>--trace DIR</c>) back into one <see cref="ResultTable"/> per record type, checking every
/// record against <see cref="TraceSchema"/>; <c>bpfsim trace convert</c> writes those tables as CSV or Parquet.
/// </summary>
public static class TraceReader
{
    /// <summary>The tables of <paramref name="directory"/>, by record type name (ack, send, ca, queue, struct_ops), in schema order.</summary>
    /// <exception cref="TraceFormatException">The folder is missing, has no valid schema.json, or a file is garbled.</exception>
    public static IReadOnlyList<(string Name, ResultTable Table)> Read(string directory)
    {
        var records = ReadRecords(directory);
        var tables = new List<(string, ResultTable)>();
        foreach (var type in TraceSchema.Records)
        {
            var table = new ResultTable();
            foreach (var field in type.Fields.Skip(1))
            {
                table.AddColumn(field.Name, field.Kind switch
                {
                    TraceFieldKind.Boolean => ResultColumnKind.Boolean,
                    TraceFieldKind.String => ResultColumnKind.String,
                    _ => ResultColumnKind.Integer,
                });
            }
            foreach (var record in records[type.Name])
            {
                table.AddRow(record[1..]);
            }
            tables.Add((type.Name, table));
        }
        return tables;
    }

    /// <summary>
    /// Every record of <paramref name="directory"/> by record type name, each as its values in schema order (type
    /// first; integers as long, booleans as bool, strings as string): flows in flow order, then links, then struct_ops.
    /// </summary>
    /// <exception cref="TraceFormatException">The folder is missing, has no valid schema.json, or a file is garbled.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<object?[]>> ReadRecords(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new TraceFormatException($"trace folder '{directory}' does not exist");
        }
        string schemaPath = Path.Combine(directory, TraceSchema.SchemaFile);
        if (!File.Exists(schemaPath))
        {
            throw new TraceFormatException($"'{directory}' is not a bpfsim trace folder: it has no {TraceSchema.SchemaFile} (write one with: bpfsim run SCENARIO --trace DIR)");
        }
        CheckSchema(schemaPath);
        var lists = TraceSchema.Records.ToDictionary(r => r.Code, _ => new List<object?[]>());
        var files = Directory.GetFiles(directory, "flow-*.msgpack").Order(StringComparer.Ordinal).ToList();
        foreach (string required in new[] { TraceSchema.LinksFile, TraceSchema.StructOpsFile })
        {
            string path = Path.Combine(directory, required);
            if (!File.Exists(path))
            {
                throw new TraceFormatException($"'{directory}' is an incomplete trace: {required} is missing");
            }
            files.Add(path);
        }
        foreach (string file in files)
        {
            foreach (var record in ReadFile(file))
            {
                lists[(int)(long)record[0]!].Add(record);
            }
        }
        return TraceSchema.Records.ToDictionary(r => r.Name, r => (IReadOnlyList<object?[]>)lists[r.Code]);
    }

    /// <summary>Writes every table of <paramref name="directory"/> into <paramref name="output"/> as NAME.csv and/or NAME.parquet.</summary>
    /// <returns>The files written.</returns>
    /// <exception cref="TraceFormatException">As <see cref="Read"/>.</exception>
    public static IReadOnlyList<string> Convert(string directory, string output, OutputFormats formats)
    {
        var tables = Read(directory);
        Directory.CreateDirectory(output);
        var written = new List<string>();
        foreach (var (name, table) in tables)
        {
            if ((formats & OutputFormats.Csv) != 0)
            {
                string path = Path.Combine(output, name + ".csv");
                table.WriteCsv(path);
                written.Add(path);
            }
            if ((formats & OutputFormats.Parquet) != 0)
            {
                string path = Path.Combine(output, name + ".parquet");
                table.WriteParquet(path);
                written.Add(path);
            }
        }
        return written;
    }

    private static void CheckSchema(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new TraceFormatException($"{path}: not valid JSON: {e.Message}");
        }
        if (root?["format"]?.GetValueKind() != System.Text.Json.JsonValueKind.String || (string?)root["format"] != "bpfsim-trace")
        {
            throw new TraceFormatException($"{path}: not a bpfsim trace schema (\"format\" is not \"bpfsim-trace\")");
        }
        if (root["version"]?.GetValueKind() != System.Text.Json.JsonValueKind.Number || (int)root["version"]! != TraceSchema.Version)
        {
            throw new TraceFormatException($"{path}: trace version {root["version"]?.ToJsonString() ?? "(none)"}; this bpfsim reads version {TraceSchema.Version}");
        }
    }

    /// <summary>The records of one trace file in the order written, each as its values in schema order (type first).</summary>
    /// <exception cref="TraceFormatException">A record does not match the schema, or the file ends inside one.</exception>
    public static IReadOnlyList<object?[]> ReadFile(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var reader = new MessagePackReader(bytes);
        var records = new List<object?[]>();
        while (!reader.End)
        {
            long at = reader.Consumed;
            try
            {
                int count = reader.ReadArrayHeader();
                if (count < 2)
                {
                    throw new TraceFormatException($"an array of {count} elements is not a record");
                }
                int code = reader.ReadInt32();
                var type = TraceSchema.Find(code) ?? throw new TraceFormatException($"unknown record type {code}");
                if (count != type.Fields.Count)
                {
                    throw new TraceFormatException($"{type.Name} records have {type.Fields.Count} fields, this one has {count}");
                }
                var values = new object?[count];
                values[0] = (long)code;
                for (int i = 1; i < count; i++)
                {
                    values[i] = type.Fields[i].Kind switch
                    {
                        TraceFieldKind.Boolean => reader.ReadBoolean(),
                        TraceFieldKind.String => reader.ReadString(),
                        _ => reader.ReadInt64(),
                    };
                }
                records.Add(values);
            }
            catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or TraceFormatException or InvalidOperationException)
            {
                throw new TraceFormatException($"{file}: record {records.Count + 1} (byte {at}): {e.Message}");
            }
        }
        return records;
    }
}
