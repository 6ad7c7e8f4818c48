using System.Buffers;
using System.Text;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Reads a scenario file's bytes into text, refusing what the YAML reader should never see: files over
/// <see cref="ScenarioLimits.MaxFileBytes"/>, invalid UTF-8 and NUL bytes, each reported at its line and column.
/// </summary>
public static class ScenarioText
{
    /// <summary>Reads <paramref name="path"/>; <paramref name="name"/> is used in messages.</summary>
    /// <exception cref="ScenarioException">The file cannot be read or is not acceptable text.</exception>
    public static string Read(string path, string name)
    {
        byte[] bytes;
        try
        {
            if (Directory.Exists(path))
            {
                throw Error(name, 1, 1, "is a directory, not a scenario file");
            }
            if (!File.Exists(path))
            {
                throw Error(name, 1, 1, "no such file");
            }
            // Read at most one byte past the bound: a device or FIFO reports no length, and must not be read forever.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[ScenarioLimits.MaxFileBytes + 1];
            int total = 0, read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }
            bytes = buffer[..total];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Error(name, 1, 1, $"cannot be read: {e.Message}");
        }
        return Decode(bytes, name);
    }

    /// <summary>Checks and decodes <paramref name="bytes"/> as a scenario's UTF-8 text (a leading BOM is dropped).</summary>
    /// <exception cref="ScenarioException">Too large, invalid UTF-8, or a NUL byte.</exception>
    public static string Decode(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length > ScenarioLimits.MaxFileBytes)
        {
            throw Error(name, 1, 1, $"is larger than {ScenarioLimits.MaxFileBytes / (1 << 20)} MiB, the limit for a scenario file");
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }
        for (int i = 0; i < bytes.Length;)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != OperationStatus.Done)
            {
                var (line, column) = Position(bytes, i);
                throw Error(name, line, column, $"invalid UTF-8 (byte 0x{bytes[i]:X2} at offset {i}); a scenario is UTF-8 text");
            }
            i += consumed;
        }
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            var (line, column) = Position(bytes, nul);
            throw Error(name, line, column, "NUL byte; a scenario is UTF-8 text (is this file UTF-16 or binary?)");
        }
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>1-based line and column (in characters) of byte <paramref name="offset"/>.</summary>
    private static (int Line, int Column) Position(ReadOnlySpan<byte> bytes, int offset)
    {
        var before = bytes[..offset];
        int line = before.Count((byte)'\n') + 1;
        int lineStart = before.LastIndexOf((byte)'\n') + 1;
        int column = 1;
        foreach (byte b in before[lineStart..])
        {
            if ((b & 0xC0) != 0x80) // count characters, not UTF-8 continuation bytes
            {
                column++;
            }
        }
        return (line, column);
    }

    private static ScenarioException Error(string file, int line, int column, string message) =>
        new([new ScenarioError(file, line, column, message)]);
}
