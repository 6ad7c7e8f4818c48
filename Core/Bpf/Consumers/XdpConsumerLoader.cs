using System.Reflection;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Describes and loads C# XDP programs (<see cref="XdpProgramAttribute"/>): the checks the catalog makes when it adds
/// one, and BPF_PROG_LOAD of an instance as a program of type XDP whose body is the guarded <c>Run</c>.
/// </summary>
public static class XdpConsumerLoader
{
    /// <summary>The name of the method a C# XDP program runs per packet.</summary>
    public const string RunMethod = "Run";

    /// <summary>What the catalog needs to know of <paramref name="type"/>: its attribute, or null when it has none.</summary>
    /// <exception cref="ArgumentException">The class is marked but is not public and sealed, has no <c>int Run(ref PacketContext)</c>, or no usable constructor.</exception>
    public static XdpProgramAttribute? Describe(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.GetCustomAttribute<XdpProgramAttribute>() is not { } attribute)
        {
            return null;
        }
        if (!type.IsPublic && !type.IsNestedPublic || !type.IsSealed || type.IsAbstract)
        {
            throw new ArgumentException($"XDP program {type.FullName} must be a public sealed class", nameof(type));
        }
        if (FindRun(type) is null)
        {
            throw new ArgumentException($"XDP program {type.FullName} needs a public method int {RunMethod}(ref PacketContext ctx)", nameof(type));
        }
        if (type.GetConstructor(Type.EmptyTypes) is null && type.GetConstructor([typeof(XdpConsumerContext)]) is null)
        {
            throw new ArgumentException($"XDP program {type.FullName} needs a public constructor taking nothing or an {nameof(XdpConsumerContext)}", nameof(type));
        }
        return attribute;
    }

    private static MethodInfo? FindRun(Type type)
    {
        var method = type.GetMethod(RunMethod, BindingFlags.Public | BindingFlags.Instance, [typeof(PacketContext).MakeByRefType()]);
        return method?.ReturnType == typeof(int) ? method : null;
    }

    /// <summary>
    /// Constructs the consumer (giving it an <see cref="XdpConsumerContext"/> when its constructor takes one), sets
    /// <paramref name="globals"/> on its options, and loads it with BPF_PROG_LOAD as an XDP program guarded by a
    /// <see cref="ConsumerGuard"/> numbered <paramref name="ordinal"/>.
    /// </summary>
    /// <returns>BPF_PROG_LOAD's result (EINVAL for a bad name, ...).</returns>
    /// <exception cref="ConsumerLoadException">The constructor threw, or <paramref name="globals"/> do not apply.</exception>
    public static BpfResult Load(BpfSystem bpf, ConsumerInfo info, IReadOnlyList<ConsumerGlobal> globals, int ordinal, out LoadedXdpConsumer? loaded)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(globals);
        loaded = null;
        var type = info.ClrType is { } t && info.Kind == ConsumerKind.Xdp
            ? t
            : throw new ArgumentException($"{info.Name} is not a C# XDP program", nameof(info));
        var context = new XdpConsumerContext(bpf);
        object instance;
        try
        {
            instance = type.GetConstructor([typeof(XdpConsumerContext)]) is { } withContext
                ? withContext.Invoke([context])
                : Activator.CreateInstance(type)!;
        }
        catch (Exception e) when (e is TargetInvocationException or TypeInitializationException)
        {
            var cause = e.InnerException is TypeInitializationException { InnerException: { } inner } ? inner : e.InnerException ?? e;
            throw new ConsumerLoadException($"{info.Name}: its constructor failed: {cause.GetType().Name}: {cause.Message}", e);
        }
        var errors = ConsumerGlobals.Apply(instance, globals);
        if (errors.Count > 0)
        {
            throw new ConsumerLoadException($"{info.Name}: {string.Join("; ", errors.Select(e => e.Message))}");
        }
        var run = (PacketProgramFunc)Delegate.CreateDelegate(typeof(PacketProgramFunc), instance, FindRun(type)!);
        var guard = new ConsumerGuard(ordinal, info.Name, null, bpf.Simulator, ["run"]);
        var program = new GuardedXdpProgram(run, guard);
        var r = bpf.ProgLoad(new ProgramSpec
        {
            Type = ProgramType.Xdp, Name = BpfSystem.ToObjectName(info.Name), Body = (PacketProgramFunc)program.Run,
        }, out int progFd);
        if (!r.IsOk)
        {
            return r;
        }
        loaded = new LoadedXdpConsumer(info, instance, program, progFd, context.Maps);
        return BpfResult.Ok;
    }
}
