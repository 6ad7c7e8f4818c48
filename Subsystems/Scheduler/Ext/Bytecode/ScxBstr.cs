using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Scheduler.Ext.Bytecode;

/// <summary>
/// The formatting of scx_bpf_error_bstr, scx_bpf_exit_bstr and scx_bpf_dump_bstr (bstr_format in kernel/sched/ext.c
/// over bpf_bprintf_prepare, kernel/bpf/helpers.c): a NUL-terminated format and an array of u64 arguments, one per
/// conversion, with the bprintf conversions (%d %i %u %x %X %c %s %p with l/ll/h/hh/z modifiers, width, '-' and '0',
/// %%); %s reads a string from the program's memory. A malformed format or too few arguments is an error, as the
/// kernel's -EINVAL, reported in the text.
/// </summary>
internal static class ScxBstr
{
    /// <summary>MAX_BPRINTF_VARARGS.</summary>
    private const int MaxArgs = 12;

    /// <summary>The kernel formats into a buffer of SCX_EXIT_MSG_LEN (1024).</summary>
    private const int MaxLength = 1024;

    public static string Format(ref RunContext c, ulong fmtAddress, ulong data, uint dataLength)
    {
        string fmt = ReadString(ref c, fmtAddress, MaxLength);
        if (dataLength % 8 != 0 || dataLength / 8 > MaxArgs)
        {
            return $"(invalid data_len {dataLength} for format \"{fmt}\")";
        }
        int n = (int)(dataLength / 8);
        Span<ulong> args = stackalloc ulong[MaxArgs];
        if (n > 0)
        {
            var bytes = c.GetBytes(data, n * 8, MemoryAccess.Read);
            for (int i = 0; i < n; i++)
            {
                args[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(i * 8)..]);
            }
        }
        var sb = new StringBuilder();
        int arg = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char ch = fmt[i];
            if (ch != '%')
            {
                sb.Append(ch);
                continue;
            }
            if (i + 1 < fmt.Length && fmt[i + 1] == '%')
            {
                sb.Append('%');
                i++;
                continue;
            }
            int j = i + 1;
            bool left = false, zero = false;
            for (; j < fmt.Length && fmt[j] is '-' or '0' or '+' or ' ' or '#'; j++)
            {
                left |= fmt[j] == '-';
                zero |= fmt[j] == '0';
            }
            int width = 0;
            for (; j < fmt.Length && char.IsAsciiDigit(fmt[j]); j++)
            {
                width = width * 10 + (fmt[j] - '0');
            }
            int size = 4;
            for (; j < fmt.Length && fmt[j] is 'l' or 'h' or 'z'; j++)
            {
                size = fmt[j] == 'h' ? Math.Min(size, 2) / (fmt[j - 1] == 'h' ? 2 : 1) : 8;
            }
            if (j >= fmt.Length)
            {
                return $"(invalid format \"{fmt}\")";
            }
            if (arg >= n)
            {
                return $"(format \"{fmt}\" has more conversions than the {n} arguments given)";
            }
            ulong v = args[arg++];
            string text = fmt[j] switch
            {
                'd' or 'i' => size switch
                {
                    8 => ((long)v).ToString(CultureInfo.InvariantCulture),
                    2 => ((short)v).ToString(CultureInfo.InvariantCulture),
                    1 => ((sbyte)v).ToString(CultureInfo.InvariantCulture),
                    _ => ((int)v).ToString(CultureInfo.InvariantCulture),
                },
                'u' => (size == 8 ? v : size == 2 ? (ushort)v : size == 1 ? (byte)v : (uint)v).ToString(CultureInfo.InvariantCulture),
                'x' => (size == 8 ? v : (uint)v).ToString("x", CultureInfo.InvariantCulture),
                'X' => (size == 8 ? v : (uint)v).ToString("X", CultureInfo.InvariantCulture),
                'c' => ((char)(byte)v).ToString(),
                'p' => "0x" + v.ToString("x", CultureInfo.InvariantCulture),
                's' => ReadString(ref c, v, MaxLength),
                _ => null!,
            };
            if (text is null)
            {
                return $"(unsupported conversion %{fmt[j]} in \"{fmt}\")";
            }
            if (text.Length < width)
            {
                text = left ? text.PadRight(width) : text.PadLeft(width, zero && fmt[j] != 's' ? '0' : ' ');
            }
            sb.Append(text);
            i = j;
        }
        return sb.Length > MaxLength - 1 ? sb.ToString(0, MaxLength - 1) : sb.ToString();
    }

    /// <summary>A NUL-terminated string at <paramref name="address"/> (at most <paramref name="max"/> − 1 bytes); "(efault)" if unreadable.</summary>
    private static string ReadString(ref RunContext c, ulong address, int max)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < max - 1; i++)
        {
            byte b;
            try
            {
                b = (byte)c.Load(address + (ulong)i, 1);
            }
            catch (BpfFault)
            {
                return i == 0 ? "(efault)" : sb.ToString();
            }
            if (b == 0)
            {
                break;
            }
            sb.Append((char)b);
        }
        return sb.ToString();
    }
}
