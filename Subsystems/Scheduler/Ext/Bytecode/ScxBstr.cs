using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Scheduler.Ext.Bytecode;

/// <summary>
/// The formatting of scx_bpf_error_bstr, scx_bpf_exit_bstr and scx_bpf_dump_bstr (__bstr_format in
/// kernel/sched/ext.c over bpf_bprintf_prepare, kernel/bpf/helpers.c, and bstr_printf, lib/vsprintf.c): a
/// NUL-terminated format and an array of u64 arguments, one per conversion. The conversions are bpf_bprintf_prepare's:
/// %d %i %u %x %X with no, l or ll size, %c, %s, %p (plain, and the %px %pK %ps %pS %pB %pks %pus %pI4 %pi6 forms,
/// formatted as a plain pointer or string), flags '0' '+' '-' ' ', a width, and %%. Anything else (an h or z size, a
/// precision, '#', a control byte, more conversions than arguments) fails with -EINVAL, as does a data size that is
/// not a multiple of 8 or more than 12 arguments.
/// </summary>
internal static class ScxBstr
{
    /// <summary>MAX_BPRINTF_VARARGS.</summary>
    private const int MaxArgs = 12;

    /// <summary>The kernel formats into a buffer of SCX_EXIT_MSG_LEN (1024).</summary>
    private const int MaxLength = 1024;

    private const int Einval = -22;

    /// <summary>
    /// __bstr_format: 0 with the formatted <paramref name="text"/>, or −errno with the message the kernel passes to
    /// scx_ops_error in <paramref name="error"/> ("invalid data=%p and data__sz=%u" or "format preparation failed
    /// (%d)"). <paramref name="fmt"/> is the format as read, for scx_bpf_dump_bstr's failure line.
    /// </summary>
    public static int Format(ref RunContext c, ulong fmtAddress, ulong data, uint dataLength,
        out string text, out string error, out string fmt)
    {
        fmt = ReadString(ref c, fmtAddress, MaxLength);
        text = "";
        error = "";
        if (dataLength % 8 != 0 || dataLength > MaxArgs * 8 || (dataLength != 0 && data == 0))
        {
            error = $"invalid data={Pointer(data)} and data__sz={dataLength}";
            return Einval;
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
        if (!TryFormat(ref c, fmt, args[..n], sb))
        {
            error = $"format preparation failed ({Einval})";
            return Einval;
        }
        text = sb.Length > MaxLength - 1 ? sb.ToString(0, MaxLength - 1) : sb.ToString();
        return 0;
    }

    /// <summary>
    /// bpf_bprintf_prepare's checks and bstr_printf's output in one pass; false where the kernel returns -EINVAL.
    /// </summary>
    private static bool TryFormat(ref RunContext c, string fmt, scoped ReadOnlySpan<ulong> args, StringBuilder sb)
    {
        int arg = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char ch = fmt[i];
            // Control bytes are refused anywhere in the format; bytes of 0x80 and up pass through.
            if (ch < 0x80 && char.IsControl(ch) && !char.IsWhiteSpace(ch))
            {
                return false;
            }
            if (ch != '%')
            {
                sb.Append(ch);
                continue;
            }
            if (At(fmt, i + 1) == '%')
            {
                sb.Append('%');
                i++;
                continue;
            }
            if (arg >= args.Length || At(fmt, i + 1) >= 0x80)
            {
                return false;
            }
            int j = i + 1;
            bool left = false, zero = false, plus = false, space = false;
            for (; At(fmt, j) is '0' or '+' or '-' or ' '; j++)
            {
                left |= fmt[j] == '-';
                zero |= fmt[j] == '0';
                plus |= fmt[j] == '+';
                space |= fmt[j] == ' ';
            }
            int width = 0;
            for (; char.IsAsciiDigit(At(fmt, j)); j++)
            {
                width = width * 10 + (fmt[j] - '0');
            }
            ulong v = args[arg++];
            string text;
            bool numeric = false;
            switch (At(fmt, j))
            {
                case 'p':
                    if (!TryPointer(ref c, fmt, ref j, v, out text))
                    {
                        return false;
                    }
                    break;
                case 's':
                    if (!EndsConversion(At(fmt, j + 1)))
                    {
                        return false;
                    }
                    text = ReadString(ref c, v, MaxLength);
                    break;
                case 'c':
                    text = ((char)(byte)v).ToString();
                    break;
                default:
                    // Only l and ll sizes: bpf_bprintf_prepare refuses h, hh and z.
                    bool wide = false;
                    for (int l = 0; l < 2 && At(fmt, j) == 'l'; l++, j++)
                    {
                        wide = true;
                    }
                    string? number = At(fmt, j) switch
                    {
                        'd' or 'i' => Signed(wide ? (long)v : (int)v, plus, space),
                        'u' => (wide ? v : (uint)v).ToString(CultureInfo.InvariantCulture),
                        'x' => (wide ? v : (uint)v).ToString("x", CultureInfo.InvariantCulture),
                        'X' => (wide ? v : (uint)v).ToString("X", CultureInfo.InvariantCulture),
                        _ => null,
                    };
                    if (number is null)
                    {
                        return false;
                    }
                    text = number;
                    numeric = true;
                    break;
            }
            Pad(sb, text, width, left, zero && numeric);
            i = j;
        }
        return true;
    }

    /// <summary>
    /// The %p forms bpf_bprintf_prepare accepts; <paramref name="j"/> ends on the last character of the conversion.
    /// </summary>
    private static bool TryPointer(ref RunContext c, string fmt, ref int j, ulong v, out string text)
    {
        char ext = At(fmt, j + 1);
        text = Pointer(v);
        if (EndsConversion(ext))
        {
            return true;
        }
        if ((ext is 'k' or 'u') && At(fmt, j + 2) == 's')
        {
            if (!EndsConversion(At(fmt, j + 3)))
            {
                return false;
            }
            j += 2;
            text = ReadString(ref c, v, MaxLength);
            return true;
        }
        if (ext is 'K' or 'x' or 's' or 'S' or 'B')
        {
            j++;
            if (ext == 'x')
            {
                text = v.ToString("x16", CultureInfo.InvariantCulture);
            }
            return true;
        }
        if ((ext is 'i' or 'I') && (At(fmt, j + 2) is '4' or '6'))
        {
            j += 2;
            return true;
        }
        return false;
    }

    /// <summary>
    /// A plain %p (lib/vsprintf.c ptr_to_id): NULL and error pointers as they are, others hashed to 32 bits, in 16
    /// zero-padded hex digits. The kernel's hash has a key chosen at boot; bpfsim uses the deterministic hash a kernel
    /// booted with debug_boot_weak_hash uses, hash_long(ptr, 32).
    /// </summary>
    internal static string Pointer(ulong p)
    {
        ulong shown = p == 0 || p >= unchecked((ulong)-4095) ? p : (p * 0x61C8864680B583EBUL) >> 32;
        return shown.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>bpf_bprintf_prepare: a %s or %p ends at NUL, white space or punctuation.</summary>
    private static bool EndsConversion(char next) =>
        next == '\0' || char.IsWhiteSpace(next) || (next < 0x80 && char.IsPunctuation(next)) || (next < 0x80 && char.IsSymbol(next));

    private static char At(string s, int i) => i < s.Length ? s[i] : '\0';

    private static string Signed(long v, bool plus, bool space) =>
        (v >= 0 && plus ? "+" : v >= 0 && space ? " " : "") + v.ToString(CultureInfo.InvariantCulture);

    private static void Pad(StringBuilder sb, string text, int width, bool left, bool zero)
    {
        if (text.Length >= width)
        {
            sb.Append(text);
        }
        else if (left)
        {
            sb.Append(text).Append(' ', width - text.Length);
        }
        else if (zero && text.Length > 0 && text[0] is '-' or '+' or ' ')
        {
            sb.Append(text[0]).Append('0', width - text.Length).Append(text, 1, text.Length - 1);
        }
        else
        {
            sb.Append(zero ? '0' : ' ', width - text.Length).Append(text);
        }
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
