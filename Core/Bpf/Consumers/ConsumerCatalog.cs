using System.Reflection;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// The consumers available to scenarios and the CLI: built-ins and those loaded from assemblies. Safe to share between
/// runs on several threads (a sweep's workers): a run that names a consumer by path adds it while others look theirs up.
/// </summary>
public sealed class ConsumerCatalog
{
    private readonly List<ConsumerInfo> _consumers = [];
    private readonly Lock _lock = new();

    /// <summary>A snapshot of the consumers, in the order they were added.</summary>
    public IReadOnlyList<ConsumerInfo> All
    {
        get
        {
            lock (_lock)
            {
                return _consumers.ToArray();
            }
        }
    }

    /// <summary>The consumer called <paramref name="name"/>, or null.</summary>
    public ConsumerInfo? Find(string name)
    {
        lock (_lock)
        {
            return _consumers.FirstOrDefault(c => c.Name == name);
        }
    }

    /// <summary>Adds a consumer class: a struct_ops consumer (<see cref="StructOpsAttribute"/>) or a C# XDP program (<see cref="XdpProgramAttribute"/>).</summary>
    /// <exception cref="ArgumentException">The class has neither attribute, is abstract, or has no constructor the catalog can call.</exception>
    /// <exception cref="InvalidOperationException">A consumer of that name is already in the catalog.</exception>
    public ConsumerInfo Add(Type type, string source)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (XdpConsumerLoader.Describe(type) is { } xdp)
        {
            return AddChecked(type, source, new ConsumerInfo(xdp.Name, "xdp", type, source, xdp.Description, false, xdp.Name) { Kind = ConsumerKind.Xdp });
        }
        var attribute = StructOpsLoader.Describe(type)
            ?? throw new ArgumentException($"{type.FullName} has no [StructOps] or [XdpProgram] attribute", nameof(type));
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new ArgumentException($"consumer {type.FullName} must be a concrete class with a public parameterless constructor", nameof(type));
        }
        string id = attribute.Id ?? attribute.Name;
        return AddChecked(type, source, new ConsumerInfo(id, attribute.Type, type, source, attribute.Description, attribute.Link, attribute.Name));
    }

    private ConsumerInfo AddChecked(Type type, string source, ConsumerInfo info)
    {
        lock (_lock)
        {
            if (_consumers.FirstOrDefault(c => c.Name == info.Name) is { } existing)
            {
                throw new InvalidOperationException($"consumer name '{info.Name}' is used by both {existing.ClrType?.FullName ?? existing.Name} ({existing.Source}) and {type.FullName} ({source})");
            }
            _consumers.Add(info);
            return info;
        }
    }

    /// <summary>
    /// Adds a consumer of another kind (a BPF object's struct_ops variable). One object's variable replaces another
    /// object's of the same name — the object a user names is the one they mean — but never a C# consumer.
    /// </summary>
    /// <exception cref="InvalidOperationException">A C# consumer has that name.</exception>
    public ConsumerInfo Add(ConsumerInfo info)
    {
        lock (_lock)
        {
            if (_consumers.FirstOrDefault(c => c.Name == info.Name) is { } existing)
            {
                if (existing.Object is null || info.Object is null)
                {
                    throw new InvalidOperationException($"consumer name '{info.Name}' is used by both {existing.Source} and {info.Source}");
                }
                _consumers.Remove(existing);
            }
            _consumers.Add(info);
            return info;
        }
    }

    /// <summary>Adds every consumer class of <paramref name="assembly"/> (struct_ops and XDP), in name order.</summary>
    public IReadOnlyList<ConsumerInfo> AddFrom(Assembly assembly, string source)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetTypes()
            .Select(t => (Type: t, Name: t.GetCustomAttribute<StructOpsAttribute>() is { } s ? s.Id ?? s.Name : t.GetCustomAttribute<XdpProgramAttribute>()?.Name))
            .Where(t => t.Name is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => Add(t.Type, source))
            .ToList();
    }

    /// <summary>A fresh instance of the consumer (each load gets its own, as each BPF object does).</summary>
    /// <exception cref="ConsumerLoadException">The consumer's constructor threw, or it is an XDP program (<see cref="XdpConsumerLoader.Load"/> loads those).</exception>
    public static object Create(ConsumerInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Kind == ConsumerKind.Xdp)
        {
            throw new ConsumerLoadException($"{info.Name} is an XDP program, not a struct_ops consumer: attach it with a scenario's xdp: entry (docs/xdp.md)");
        }
        try
        {
            return Activator.CreateInstance(info.ClrType ?? throw new InvalidOperationException($"{info.Name} is a BPF object's consumer, not a C# class"))!;
        }
        catch (Exception e) when (e is TargetInvocationException or TypeInitializationException)
        {
            // A throwing static constructor surfaces as TypeInitializationException, an instance one wrapped.
            var cause = e.InnerException is TypeInitializationException { InnerException: { } inner } ? inner : e.InnerException ?? e;
            throw new ConsumerLoadException($"{info.Name}: its constructor failed: {cause.GetType().Name}: {cause.Message}", e);
        }
    }
}
