using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// Loads a consumer the way libbpf loads a <c>.struct_ops</c> section: one program per implemented member
/// (BPF_PROG_LOAD), a struct_ops map (BPF_MAP_CREATE), and the value with program fds in the function slots and the
/// name and flags in the data members, ready for <see cref="LoadedStructOps.Register"/>. Loading is a transaction:
/// if any step fails, everything created so far is closed and the error is returned.
/// </summary>
public static class StructOpsLoader
{
    /// <summary>The consumer's attribute, or null if the class is not a consumer.</summary>
    public static StructOpsAttribute? Describe(Type consumerType) => consumerType.GetCustomAttribute<StructOpsAttribute>();

    /// <summary>The members a consumer implements, with the methods that implement them.</summary>
    public static IReadOnlyList<(string Member, MethodInfo Method)> ImplementedMembers(Type consumerType)
    {
        var found = new List<(string, MethodInfo)>();
        foreach (var method in consumerType.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            var baseDefinition = method.GetBaseDefinition();
            var attribute = method.GetCustomAttribute<StructOpsMemberAttribute>() ?? baseDefinition.GetCustomAttribute<StructOpsMemberAttribute>();
            if (attribute is null)
            {
                continue;
            }
            // A virtual default on an abstract base that nobody overrode is an empty slot, not an implementation.
            bool isDefault = method.DeclaringType == baseDefinition.DeclaringType && method.IsVirtual &&
                             method.DeclaringType!.IsAbstract && method.DeclaringType != consumerType;
            if (!isDefault)
            {
                found.Add((attribute.Member, method));
            }
        }
        return found.OrderBy(f => f.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>Loads <paramref name="consumer"/> into <paramref name="bpf"/> for the caller process.</summary>
    /// <returns>The errno of the first step that failed (ENOTSUPP unknown type, EINVAL a method of the wrong
    /// signature or a member that is not a function, the kernel's checks of each command).</returns>
    public static BpfResult Load(BpfSystem bpf, object consumer, out LoadedStructOps? loaded)
    {
        loaded = null;
        var clrType = consumer.GetType();
        var attribute = Describe(clrType);
        if (attribute is null)
        {
            return BpfResult.Fail(Errno.EINVAL, $"{clrType.FullName} has no [StructOps] attribute").For(BpfCommand.ProgLoad);
        }
        var type = bpf.FindStructOpsType(attribute.Type);
        if (type is null)
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"{attribute.Name}: struct_ops type '{attribute.Type}' is not registered (is its subsystem added?)")
                .For(BpfCommand.ProgLoad);
        }
        var fds = new List<int>();
        var value = new byte[type.ValueSize];
        var process = bpf.Caller;
        try
        {
            foreach (var (memberName, method) in ImplementedMembers(clrType))
            {
                var member = type.FindMember(memberName);
                if (member is null || !member.IsFunction)
                {
                    return Fail(BpfResult.Fail(Errno.EINVAL, $"{attribute.Name}.{method.Name}: '{memberName}' is not a function member of {type.Name}")
                        .For(BpfCommand.ProgLoad));
                }
                var body = Delegate.CreateDelegate(member.Signature!, consumer, method, throwOnBindFailure: false);
                if (body is null)
                {
                    return Fail(BpfResult.Fail(Errno.EINVAL,
                        $"{attribute.Name}.{method.Name}: signature does not match {type.Name}.{member.Name}, which is {member.Signature!.Name} ({member.CPrototype})")
                        .For(BpfCommand.ProgLoad));
                }
                var r = bpf.ProgLoad(new ProgramSpec
                {
                    Type = ProgramType.StructOps,
                    Name = memberName.Length > 15 ? memberName[..15] : memberName,
                    StructOpsType = type.Name,
                    Member = memberName,
                    Body = body,
                }, out int fd);
                if (!r.IsOk)
                {
                    return Fail(r);
                }
                fds.Add(fd);
                BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(StructOpsType.DataOffset + member.Offset), (ulong)fd);
            }
            WriteData(type, value, attribute);
            // Data members beyond name and flags (sched_ext_ops' timeout_ms, dispatch_max_batch, …) come from the consumer.
            (consumer as IStructOpsData)?.WriteData(type, value.AsSpan(StructOpsType.DataOffset, type.DataSize));
            var create = bpf.MapCreate(new MapSpec
            {
                Type = MapType.StructOps,
                KeySize = 4,
                ValueSize = (uint)type.ValueSize,
                MaxEntries = 1,
                Flags = attribute.Link ? MapFlags.Link : MapFlags.None,
                Name = BpfSystem.ToObjectName(attribute.Name),
                StructOpsType = type.Name,
            }, out int mapFd);
            if (!create.IsOk)
            {
                return Fail(create);
            }
            bpf.GetMap(mapFd, out var map).ThrowIfFailed();
            loaded = new LoadedStructOps(bpf, process, attribute.Name, (StructOpsMap)map, mapFd, fds) { PendingValue = value };
            return BpfResult.Ok;
        }
        catch
        {
            CloseAll();
            throw;
        }

        BpfResult Fail(BpfResult r)
        {
            CloseAll();
            return r;
        }

        void CloseAll()
        {
            foreach (int fd in fds)
            {
                bpf.Close(fd);
            }
        }
    }

    private static void WriteData(StructOpsType type, byte[] value, StructOpsAttribute attribute)
    {
        if (type.FindMember("name") is { Kind: StructOpsMemberKind.CString } name)
        {
            var bytes = Encoding.ASCII.GetBytes(attribute.Name);
            bytes.AsSpan(0, Math.Min(bytes.Length, name.Size)).CopyTo(value.AsSpan(StructOpsType.DataOffset + name.Offset));
        }
        if (type.FindMember("flags") is { Kind: StructOpsMemberKind.U32 } flags)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(StructOpsType.DataOffset + flags.Offset), attribute.Flags);
        }
        else if (type.FindMember("flags") is { Kind: StructOpsMemberKind.U64 } flags64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(StructOpsType.DataOffset + flags64.Offset), attribute.Flags);
        }
    }
}
