using System.Buffers.Binary;
using System.Diagnostics;
using System.Linq.Expressions;
using System.Text;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.StructOps;

/// <summary>
/// The kernel-side value of a populated struct_ops map (<c>kvalue.data</c>): the program behind each function member
/// and the bytes of the data members. A subsystem receives this in Register, resolves the functions it calls once
/// with <see cref="Function{TDelegate}"/>, and pins the map per user with <see cref="TryGet"/> / <see cref="Put"/>.
/// </summary>
public sealed class StructOpsKernelData
{
    private readonly BpfProgram?[] _programs;
    private readonly byte[] _data;

    internal StructOpsKernelData(StructOpsMap map, BpfProgram?[] programs, byte[] data)
    {
        Map = map;
        _programs = programs;
        _data = data;
    }

    public StructOpsMap Map { get; }

    public StructOpsType Type => Map.StructOpsType;

    /// <summary>The program implementing <paramref name="member"/>, or null when the slot is empty.</summary>
    public BpfProgram? Program(string member) => _programs[Member(member).Index];

    /// <summary>True if the function member has a program.</summary>
    public bool Has(string member) => Program(member) is not null;

    /// <summary>The bytes of a data member.</summary>
    public ReadOnlySpan<byte> Data(string member)
    {
        var m = Member(member);
        return _data.AsSpan(m.Offset, m.Size);
    }

    /// <summary>A NUL-terminated string member such as <c>name</c>.</summary>
    public string ReadString(string member) => ReadCString(Data(member));

    /// <summary>The ASCII text before the first NUL (all of it when there is none), as the kernel reads a char[].</summary>
    internal static string ReadCString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul < 0 ? bytes : bytes[..nul]);
    }

    /// <summary>A u32 member such as <c>flags</c>.</summary>
    public uint ReadUInt32(string member) => BinaryPrimitives.ReadUInt32LittleEndian(Data(member));

    /// <summary>
    /// The function to call for <paramref name="member"/>, or null when it has no program (the caller then skips it,
    /// as the kernel checks for NULL). With <see cref="BpfSystem.StatsEnabled"/> set when this is resolved, calls are
    /// counted in the program's run_cnt and run_time_ns (BPF_ENABLE_STATS); otherwise the body is called directly.
    /// </summary>
    /// <exception cref="ArgumentException">The member is not a function of this type, or its signature is not <typeparamref name="TDelegate"/>.</exception>
    public TDelegate? Function<TDelegate>(string member) where TDelegate : Delegate
    {
        var m = Member(member);
        if (!m.IsFunction || m.Signature != typeof(TDelegate))
        {
            throw new ArgumentException($"{Type.Name}.{member} is not a function of type {typeof(TDelegate).Name}", nameof(member));
        }
        var program = _programs[m.Index];
        if (program is null)
        {
            return null;
        }
        var body = (TDelegate)program.Body;
        return Map.System.StatsEnabled ? (TDelegate)(program.CountedBody ??= Counted(body, program)) : body;
    }

    /// <summary>Wraps a body so each call updates the program's run statistics (built once per resolution).</summary>
    private static TDelegate Counted<TDelegate>(TDelegate body, BpfProgram program) where TDelegate : Delegate
    {
        var invoke = typeof(TDelegate).GetMethod("Invoke")!;
        var parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        var start = Expression.Variable(typeof(long), "start");
        var call = Expression.Invoke(Expression.Constant(body), parameters);
        var account = Expression.Call(Expression.Constant(program), typeof(BpfProgram).GetMethod(nameof(BpfProgram.Account),
                System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!,
            Expression.Subtract(Expression.Call(typeof(Stopwatch).GetMethod(nameof(Stopwatch.GetTimestamp))!), start));
        Expression block;
        if (invoke.ReturnType == typeof(void))
        {
            block = Expression.Block(new[] { start },
                Expression.Assign(start, Expression.Call(typeof(Stopwatch).GetMethod(nameof(Stopwatch.GetTimestamp))!)),
                call, account);
        }
        else
        {
            var result = Expression.Variable(invoke.ReturnType, "result");
            block = Expression.Block(invoke.ReturnType, new[] { start, result },
                Expression.Assign(start, Expression.Call(typeof(Stopwatch).GetMethod(nameof(Stopwatch.GetTimestamp))!)),
                Expression.Assign(result, call), account, result);
        }
        return Expression.Lambda<TDelegate>(block, parameters).Compile();
    }

    /// <summary>
    /// bpf_struct_ops_get (bpf_try_module_get for a BPF owner): takes a map reference for a new user unless the map
    /// is already dying. A TOBEFREE map with references left still succeeds, as in the kernel.
    /// </summary>
    public bool TryGet() => Map.TryInc();

    /// <summary>bpf_struct_ops_put: a user lets go.</summary>
    public void Put() => Map.Put();

    private StructOpsMember Member(string name) =>
        Type.FindMember(name) ?? throw new ArgumentException($"{Type.Name} has no member {name}", nameof(name));

    internal BpfProgram?[] Programs => _programs;
}
