using System.Globalization;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// The helpers every program type gets from bpf_base_func_proto (kernel/bpf/helpers.c), as bpfsim simulates them:
/// map access (lookup/update/delete, and push/pop/peek for queue and stack maps), time, random numbers, the CPU, bpf_printk into the run's trace, and reads of kernel memory. Each
/// returns what the kernel's returns, negative errnos included.
/// </summary>
public static class BaseHelpers
{
    public const int MapLookupElem = 1;
    public const int MapUpdateElem = 2;
    public const int MapDeleteElem = 3;
    public const int KtimeGetNs = 5;
    public const int MapPushElem = 87;
    public const int MapPopElem = 88;
    public const int MapPeekElem = 89;
    public const int TracePrintk = 6;
    public const int GetPrandomU32 = 7;
    public const int GetSmpProcessorId = 8;
    public const int GetCurrentPidTgid = 14;
    public const int GetNumaNodeId = 42;
    public const int Strncmp = 182;
    public const int KtimeGetTaiNs = 208;
    public const int ProbeReadKernel = 113;
    public const int ProbeReadKernelStr = 115;
    public const int Jiffies64 = 118;
    public const int KtimeGetBootNs = 125;
    public const int KtimeGetCoarseNs = 160;

    /// <summary>The helper <paramref name="id"/>, or null when it is not one of these.</summary>
    public static BpfFunction? For(int id) => id switch
    {
        MapLookupElem => Lookup,
        MapUpdateElem => Update,
        MapDeleteElem => Delete,
        MapPushElem => Push,
        MapPopElem => Pop,
        MapPeekElem => Peek,
        KtimeGetNs or KtimeGetBootNs or KtimeGetCoarseNs or KtimeGetTaiNs => Now,
        // Congestion control runs in softirq context on the packet path: current is whatever task was interrupted,
        // for bpfsim always the idle task (pid 0).
        GetCurrentPidTgid => (ref RunContext _, ulong _, ulong _, ulong _, ulong _, ulong _) => 0,
        Strncmp => StrNCmp,
        TracePrintk => Printk,
        GetPrandomU32 => Random,
        GetSmpProcessorId => (ref RunContext c, ulong _, ulong _, ulong _, ulong _, ulong _) => (ulong)Math.Max(State(ref c).Object.System.Cpus.Current, 0),
        GetNumaNodeId => (ref RunContext _, ulong _, ulong _, ulong _, ulong _, ulong _) => 0,
        ProbeReadKernel => ProbeRead,
        ProbeReadKernelStr => ProbeReadStr,
        Jiffies64 => JiffiesNow,
        _ => null,
    };

    /// <summary>A negative errno as a helper returns it in R0.</summary>
    public static ulong Error(Errno errno) => (ulong)(-(long)errno);

    private static ProgramCallState State(ref RunContext c) => (ProgramCallState)c.CallerState!;

    private static BpfMap MapOf(ref RunContext c, ulong pointer) =>
        State(ref c).Object.MapAt(c.Memory, pointer) ?? throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter,
            $"R1 type=scalar expected=map_ptr (0x{pointer:x} is not a map of this object, nor an inner map this run looked up)", pointer);

    private static ulong Lookup(ref RunContext c, ulong map, ulong key, ulong _, ulong __, ulong ___)
    {
        var m = MapOf(ref c, map);
        var k = c.GetBytes(key, m.KeySize, MemoryAccess.Read);
        if (m.Type.IsMapInMap())
        {
            // array_of_map_lookup_elem / htab_of_map_lookup_elem: the inner map itself (the verifier types it as that
            // map, CONST_PTR_TO_MAP after the NULL check), or NULL for an empty slot. It stays usable until the run ends.
            var inner = m.LookupInner(k);
            return inner is null ? 0 : State(ref c).Object.InnerMapPointer(c.Memory, inner);
        }
        bool found;
        byte[] array;
        int offset;
        try
        {
            found = m.LookupLocation(k, out array, out offset);
        }
        catch (NotSupportedException)
        {
            // The verifier refuses this at load: check_map_func_compatibility.
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter,
                $"cannot pass map_type {(uint)m.Type} into func bpf_map_lookup_elem#{MapLookupElem}", map);
        }
        if (!found)
        {
            return 0;
        }
        var region = c.Memory.MapTransient(array, offset, m.ValueSize, RegionKind.MapValue, MemoryAccess.ReadWrite, "map value");
        return AddressSpace.AddressOf(region);
    }

    /// <summary>
    /// check_map_func_compatibility (kernel/bpf/verifier.c), which the kernel runs at load: a queue or stack takes only
    /// push, pop and peek, and those take only a queue or stack (bpfsim has no bloom filter); a map-in-map takes only
    /// lookup. An inner map looked up in this run is checked as its type, as the verifier checks it through inner_map_meta.
    /// </summary>
    private static BpfMap CompatibleMapOf(ref RunContext c, ulong map, int helper)
    {
        var m = MapOf(ref c, map);
        bool queueHelper = helper is MapPushElem or MapPopElem or MapPeekElem;
        // An outer map takes only bpf_map_lookup_elem from a program (check_map_func_compatibility).
        if (m.Type.IsQueueOrStack() != queueHelper || m.Type.IsMapInMap())
        {
            throw new BpfFault(FaultKind.InvalidMemoryAccess, c.ProgramCounter,
                $"cannot pass map_type {(uint)m.Type} into func {Asm.HelperNames.TryGetName(helper)}#{helper}", map);
        }
        return m;
    }

    private static ulong Push(ref RunContext c, ulong map, ulong value, ulong flags, ulong _, ulong __)
    {
        var m = (QueueStackMapBase)CompatibleMapOf(ref c, map, MapPushElem);
        var errno = m.Push(c.GetBytes(value, m.ValueSize, MemoryAccess.Read), flags);
        return errno == Errno.None ? 0 : Error(errno);
    }

    private static ulong Pop(ref RunContext c, ulong map, ulong value, ulong _, ulong __, ulong ___)
    {
        var m = (QueueStackMapBase)CompatibleMapOf(ref c, map, MapPopElem);
        var errno = m.Pop(c.GetBytes(value, m.ValueSize, MemoryAccess.Write));
        return errno == Errno.None ? 0 : Error(errno);
    }

    private static ulong Peek(ref RunContext c, ulong map, ulong value, ulong _, ulong __, ulong ___)
    {
        var m = (QueueStackMapBase)CompatibleMapOf(ref c, map, MapPeekElem);
        var errno = m.Peek(c.GetBytes(value, m.ValueSize, MemoryAccess.Write));
        return errno == Errno.None ? 0 : Error(errno);
    }

    private static ulong Update(ref RunContext c, ulong map, ulong key, ulong value, ulong flags, ulong _)
    {
        var m = CompatibleMapOf(ref c, map, MapUpdateElem);
        var errno = m.Update(c.GetBytes(key, m.KeySize, MemoryAccess.Read), c.GetBytes(value, m.ValueSize, MemoryAccess.Read), flags);
        return errno == Errno.None ? 0 : Error(errno);
    }

    private static ulong Delete(ref RunContext c, ulong map, ulong key, ulong _, ulong __, ulong ___)
    {
        var m = CompatibleMapOf(ref c, map, MapDeleteElem);
        var errno = m.Delete(c.GetBytes(key, m.KeySize, MemoryAccess.Read));
        return errno == Errno.None ? 0 : Error(errno);
    }

    private static ulong Now(ref RunContext c, ulong _, ulong __, ulong ___, ulong ____, ulong _____) =>
        (ulong)State(ref c).Object.System.Simulator.Now.Nanoseconds;

    /// <summary>
    /// bpf_jiffies64 (kernel/bpf/helpers.c) at the system's <see cref="BpfSystemOptions.Hz"/>: the ticks since boot, one
    /// every 1/HZ s — the same clock as the TCP stack's tcp_jiffies32 (its low 32 bits).
    /// </summary>
    private static ulong JiffiesNow(ref RunContext c, ulong _, ulong __, ulong ___, ulong ____, ulong _____)
    {
        var system = State(ref c).Object.System;
        return Jiffies.JiffiesAtNsecs((ulong)system.Simulator.Now.Nanoseconds, system.Options.Hz);
    }

    private static ulong Random(ref RunContext c, ulong _, ulong __, ulong ___, ulong ____, ulong _____) =>
        (uint)State(ref c).Object.Random.NextUInt64();

    /// <summary>bpf_strncmp(s1, s1_sz, s2): compares up to s1_sz bytes with the constant string s2, as strncmp.</summary>
    private static ulong StrNCmp(ref RunContext c, ulong s1, ulong size, ulong s2, ulong r4, ulong r5)
    {
        var a = c.GetBytes(s1, (int)Math.Min(size, 4096), MemoryAccess.Read);
        for (int i = 0; i < a.Length; i++)
        {
            byte b = (byte)c.Load(s2 + (ulong)i, 1);
            if (a[i] != b)
            {
                return (ulong)(long)(a[i] < b ? -1 : 1);
            }
            if (b == 0)
            {
                return 0;
            }
        }
        return 0;
    }

    /// <summary>bpf_probe_read_kernel: copies, or zeroes the destination and returns -EFAULT for a bad source.</summary>
    private static ulong ProbeRead(ref RunContext c, ulong dst, ulong size, ulong src, ulong r4, ulong r5)
    {
        var to = c.GetBytes(dst, (int)Math.Min(size, int.MaxValue), MemoryAccess.Write);
        if (!c.Memory.TryTranslate(src, out _, out _))
        {
            to.Clear();
            return Error(Errno.EFAULT);
        }
        try
        {
            c.GetBytes(src, to.Length, MemoryAccess.Read).CopyTo(to);
            return 0;
        }
        catch (BpfFault)
        {
            to.Clear();
            return Error(Errno.EFAULT);
        }
    }

    /// <summary>bpf_probe_read_kernel_str: copies up to the NUL (included) or size - 1 bytes; returns the length copied with the NUL.</summary>
    private static ulong ProbeReadStr(ref RunContext c, ulong dst, ulong size, ulong src, ulong _, ulong __)
    {
        if (size == 0)
        {
            return 0;
        }
        var to = c.GetBytes(dst, (int)Math.Min(size, int.MaxValue), MemoryAccess.Write);
        for (int i = 0; i < to.Length; i++)
        {
            byte b;
            try
            {
                b = i == to.Length - 1 ? (byte)0 : (byte)c.Load(src + (ulong)i, 1);
            }
            catch (BpfFault)
            {
                to.Clear();
                return Error(Errno.EFAULT);
            }
            to[i] = b;
            if (b == 0)
            {
                return (ulong)(i + 1);
            }
        }
        return (ulong)to.Length;
    }

    /// <summary>
    /// bpf_trace_printk (what bpf_printk calls): the format with up to three arguments, as kernel/trace/bpf_trace.c
    /// formats it, appended to the run's trace with the simulated time, like a line of trace_pipe.
    /// </summary>
    private static ulong Printk(ref RunContext c, ulong fmt, ulong fmtSize, ulong a1, ulong a2, ulong a3)
    {
        var state = State(ref c);
        var bytes = c.GetBytes(fmt, (int)Math.Min(fmtSize, 1024), MemoryAccess.Read);
        int nul = bytes.IndexOf((byte)0);
        if (nul < 0)
        {
            return Error(Errno.EINVAL); // bpf_bprintf_prepare: the format must be NUL-terminated
        }
        var text = Format(ref c, Encoding.ASCII.GetString(bytes[..nul]), [a1, a2, a3], out bool ok);
        if (!ok)
        {
            return Error(Errno.EINVAL);
        }
        var bpf = state.Object.System;
        bpf.Trace.Add(new TraceLine(bpf.Simulator.Now, Math.Max(bpf.Cpus.Current, 0), state.Program?.Name ?? "?", text.TrimEnd('\n')));
        return (ulong)text.Length; // bstr_printf's count, without the NUL
    }

    private static string Format(ref RunContext c, string fmt, ulong[] args, out bool ok)
    {
        var sb = new StringBuilder();
        int next = 0;
        ok = true;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%')
            {
                sb.Append(fmt[i]);
                continue;
            }
            if (++i >= fmt.Length)
            {
                ok = false;
                return "";
            }
            if (fmt[i] == '%')
            {
                sb.Append('%');
                continue;
            }
            int longs = 0;
            while (i < fmt.Length && fmt[i] == 'l')
            {
                longs++;
                i++;
            }
            if (i >= fmt.Length || next >= args.Length)
            {
                ok = false;
                return "";
            }
            ulong v = args[next++];
            switch (fmt[i])
            {
                case 'd' or 'i':
                    sb.Append(longs == 0 ? ((int)v).ToString(CultureInfo.InvariantCulture) : ((long)v).ToString(CultureInfo.InvariantCulture));
                    break;
                case 'u':
                    sb.Append(longs == 0 ? ((uint)v).ToString(CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture));
                    break;
                case 'x' or 'X':
                    string hex = longs == 0 ? ((uint)v).ToString("x", CultureInfo.InvariantCulture) : v.ToString("x", CultureInfo.InvariantCulture);
                    sb.Append(fmt[i] == 'X' ? hex.ToUpperInvariant() : hex);
                    break;
                case 'c':
                    sb.Append((char)(byte)v);
                    break;
                case 'p':
                    sb.Append("0x").Append(v.ToString("x", CultureInfo.InvariantCulture));
                    while (i + 1 < fmt.Length && char.IsAsciiLetter(fmt[i + 1]) && fmt[i + 1] is 'K' or 'x' or 's' or 'S')
                    {
                        i++;
                    }
                    break;
                case 's':
                    var s = new StringBuilder();
                    for (int k = 0; k < 256; k++)
                    {
                        byte b;
                        try
                        {
                            b = (byte)c.Load(v + (ulong)k, 1);
                        }
                        catch (BpfFault)
                        {
                            s.Clear().Append("(efault)");
                            break;
                        }
                        if (b == 0)
                        {
                            break;
                        }
                        s.Append((char)b);
                    }
                    sb.Append(s);
                    break;
                default:
                    ok = false;
                    return "";
            }
        }
        return sb.ToString();
    }
}
