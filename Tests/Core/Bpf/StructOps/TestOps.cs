using System.Buffers.Binary;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Tests.Core.Bpf.StructOps;

public delegate int TestInitFn();

public delegate ulong TestRunFn(ulong arg);

public delegate void TestReleaseFn();

/// <summary>
/// A test-only struct_ops type that knows nothing of TCP, proving the framework is generic:
/// <c>struct test_ops { int (*init)(void); u64 (*run)(u64); void (*release)(void); int (*unsupported)(void);
/// char name[16]; u32 flags; void *owner; }</c>.
/// </summary>
internal sealed class TestOpsType : StructOpsType
{
    public TestOpsType(string name = "test_ops", bool supportsUpdate = true) : base(name,
    [
        StructOpsMember.Function("init", typeof(TestInitFn), "int (void)", mandatory: true),
        StructOpsMember.Function("run", typeof(TestRunFn), "u64 (u64)"),
        StructOpsMember.Function("release", typeof(TestReleaseFn), "void (void)", allowSleepable: true),
        StructOpsMember.Function("unsupported", typeof(TestInitFn), "int (void)", supported: false),
        StructOpsMember.Data("name", StructOpsMemberKind.CString, 16),
        StructOpsMember.Data("flags", StructOpsMemberKind.U32),
        StructOpsMember.Data("owner", StructOpsMemberKind.Pointer),
    ])
    {
        _supportsUpdate = supportsUpdate;
    }

    private readonly bool _supportsUpdate;

    public TestSubsystem Subsystem { get; } = new();

    public override bool SupportsUpdate => _supportsUpdate;

    public override BpfResult InitMember(StructOpsMember member, ReadOnlySpan<byte> userData, Span<byte> kernelData, out bool handled)
    {
        handled = member.Name is "name" or "flags";
        if (member.Name == "flags" && BinaryPrimitives.ReadUInt32LittleEndian(userData) > 1)
        {
            return BpfResult.Fail(Errno.EINVAL, "test_ops flags must be 0 or 1");
        }
        if (member.Name == "name" && (userData[0] == 0 || userData.IndexOf((byte)0) < 0))
        {
            return BpfResult.Fail(Errno.EINVAL, "test_ops name must be non-empty and NUL-terminated");
        }
        if (handled)
        {
            userData.CopyTo(kernelData);
        }
        return BpfResult.Ok;
    }

    public override BpfResult Validate(StructOpsKernelData data) =>
        data.ReadString("name") == "reject" ? BpfResult.Fail(Errno.EINVAL, "validate rejects 'reject'") : BpfResult.Ok;

    public override BpfResult Register(StructOpsKernelData data, StructOpsLink? link) => Subsystem.Register(data);

    public override void Unregister(StructOpsKernelData data, StructOpsLink? link) => Subsystem.Unregister(data);

    public override BpfResult Update(StructOpsKernelData data, StructOpsKernelData old, StructOpsLink? link) =>
        _supportsUpdate ? Subsystem.Update(data, old) : base.Update(data, old, link);
}

/// <summary>A subsystem whose users adopt registered implementations by name and call them on CPUs.</summary>
internal sealed class TestSubsystem
{
    private readonly SortedDictionary<string, StructOpsKernelData> _current = new(StringComparer.Ordinal);

    public sealed class User(StructOpsKernelData data)
    {
        public StructOpsKernelData Data { get; } = data;
        public bool Released { get; set; }
    }

    public IReadOnlyDictionary<string, StructOpsKernelData> Current => _current;

    public long Calls { get; private set; }

    public BpfResult Register(StructOpsKernelData data)
    {
        string name = data.ReadString("name");
        if (!_current.TryAdd(name, data))
        {
            return BpfResult.Fail(Errno.EEXIST, $"{name} already registered");
        }
        return BpfResult.Ok;
    }

    /// <summary>Runs inside Unregister, as other work runs during its grace period (once, then cleared).</summary>
    public Action? DuringUnregister { get; set; }

    /// <summary>Runs inside Update, as other work runs during its grace period (once, then cleared).</summary>
    public Action? DuringUpdate { get; set; }

    public void Unregister(StructOpsKernelData data)
    {
        RunOnce(DuringUnregister, () => DuringUnregister = null);
        _current.Remove(data.ReadString("name"));
    }

    private static void RunOnce(Action? action, Action clear)
    {
        clear();
        action?.Invoke();
    }

    public BpfResult Update(StructOpsKernelData data, StructOpsKernelData old)
    {
        RunOnce(DuringUpdate, () => DuringUpdate = null);
        string name = data.ReadString("name");
        if (name != old.ReadString("name") || !_current.TryGetValue(name, out var registered) || registered != old)
        {
            return BpfResult.Fail(Errno.EINVAL, "update must keep the name of the registered implementation");
        }
        _current[name] = data;
        return BpfResult.Ok;
    }

    /// <summary>A user adopts the implementation registered as <paramref name="name"/> (takes a reference).</summary>
    public User? Adopt(string name) =>
        _current.TryGetValue(name, out var data) && data.TryGet() ? new User(data) : null;

    public void Release(User user)
    {
        if (!user.Released)
        {
            user.Released = true;
            user.Data.Put();
        }
    }

    /// <summary>Calls the user's <c>run</c> on <paramref name="cpu"/>; a freed map must never be called.</summary>
    public ulong Run(BpfSystem bpf, User user, int cpu, ulong arg)
    {
        if (user.Data.Map.IsFreed)
        {
            throw new InvalidOperationException($"called struct_ops map {user.Data.Map.Id} after it was freed");
        }
        using var _ = bpf.EnterProgram(cpu);
        Calls++;
        return user.Data.Function<TestRunFn>("run")?.Invoke(arg) ?? 0;
    }
}

/// <summary>Builders for test_ops programs, maps and values.</summary>
internal static class TestOps
{
    public static (BpfSystem Bpf, TestOpsType Type) NewSystem(int cpus = 2)
    {
        var bpf = new BpfSystem(new BpfSystemOptions { Cpus = cpus });
        var type = new TestOpsType();
        bpf.RegisterStructOpsType(type);
        return (bpf, type);
    }

    public static int LoadProgram(BpfSystem bpf, string member, Delegate body, string type = "test_ops")
    {
        var r = bpf.ProgLoad(new ProgramSpec { Type = ProgramType.StructOps, Name = member, StructOpsType = type, Member = member, Body = body }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    public static int CreateMap(BpfSystem bpf, bool link = false, string type = "test_ops")
    {
        var t = bpf.FindStructOpsType(type)!;
        var r = bpf.MapCreate(new MapSpec
        {
            Type = MapType.StructOps, KeySize = 4, ValueSize = (uint)t.ValueSize, MaxEntries = 1,
            Flags = link ? MapFlags.Link : MapFlags.None, StructOpsType = type, Name = "test_map",
        }, out int fd);
        Assert.That(r.IsOk, r.Reason);
        return fd;
    }

    /// <summary>A value with <paramref name="programs"/> (member → prog fd) and the name and flags.</summary>
    public static byte[] Value(StructOpsType type, string name, uint flags = 0, params (string Member, int Fd)[] programs)
    {
        var value = new byte[type.ValueSize];
        foreach (var (member, fd) in programs)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(StructOpsType.DataOffset + type.FindMember(member)!.Offset), (ulong)(uint)fd);
        }
        Encoding.ASCII.GetBytes(name).CopyTo(value.AsSpan(StructOpsType.DataOffset + type.FindMember("name")!.Offset));
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(StructOpsType.DataOffset + type.FindMember("flags")!.Offset), flags);
        return value;
    }

    /// <summary>Loads init and run programs (run returns arg + <paramref name="add"/>) and a populated-ready value.</summary>
    public static byte[] StandardValue(BpfSystem bpf, string name, ulong add = 1, string type = "test_ops")
    {
        int init = LoadProgram(bpf, "init", (TestInitFn)(() => 0), type);
        int run = LoadProgram(bpf, "run", (TestRunFn)(x => x + add), type);
        return Value(bpf.FindStructOpsType(type)!, name, 0, ("init", init), ("run", run));
    }

    public static readonly byte[] Key0 = new byte[4];
}
