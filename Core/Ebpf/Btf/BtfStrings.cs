using System.Text;

namespace BpfSim.Core.Ebpf.Btf;

/// <summary>Reads NUL-terminated names out of a BTF string section, checking every offset.</summary>
internal sealed class BtfStrings(byte[] bytes)
{
    private readonly Dictionary<uint, string> _cache = [];

    /// <summary>The string at <paramref name="offset"/>; <paramref name="what"/> names the referrer in errors.</summary>
    /// <exception cref="BtfException">The offset is outside the string section.</exception>
    public string Get(uint offset, string what)
    {
        if (offset >= (uint)bytes.Length)
        {
            throw new BtfException($"{what}: string offset {offset} is outside the string section ({bytes.Length} bytes)");
        }
        if (_cache.TryGetValue(offset, out var cached))
        {
            return cached;
        }
        // The section ends with a NUL (checked by BtfHeader), so IndexOf always finds one.
        int length = bytes.AsSpan((int)offset).IndexOf((byte)0);
        return _cache[offset] = Encoding.UTF8.GetString(bytes, (int)offset, length);
    }
}
