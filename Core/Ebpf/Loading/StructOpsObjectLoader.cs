using System.Buffers.Binary;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.Maps;
using BpfSim.Core.Bpf.Programs;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.Spec;

namespace BpfSim.Core.Ebpf.Loading;

/// <summary>
/// Turns a struct_ops variable of a loaded object into a struct_ops map, as libbpf does
/// (bpf_map__init_kern_struct_ops, then the map's creation): one BPF_PROG_LOAD per member program (its body the
/// type's trampoline over the bytecode), the map (BPF_F_LINK for <c>.struct_ops.link</c>), and the kernel value with
/// program fds in the function slots and the data members copied by name from the object's layout to the kernel's.
/// The result registers like a C# consumer's (<see cref="LoadedStructOps.Register"/>).
/// </summary>
public static class StructOpsObjectLoader
{
    /// <returns>The kernel's or libbpf's errno and reason when a step fails; everything created is closed then.</returns>
    public static BpfResult Load(BpfSystem bpf, LoadedObject obj, ObjectStructOps variable, out LoadedStructOps? loaded)
    {
        loaded = null;
        var type = obj.TypeOf(variable);
        if (type is null)
        {
            return BpfResult.Fail(Errno.ENOTSUPP, $"struct_ops {variable.Name}: struct {variable.TypeName} is not in this kernel").For(BpfCommand.MapCreate);
        }
        // Its programs, if the object was loaded without them (libbpf's autoload follows the maps created).
        var r = ObjectLoader.LoadStructOpsPrograms(bpf, obj, variable);
        if (!r.IsOk)
        {
            return r;
        }
        var support = type.Bytecode!;
        var fds = new List<int>();
        var value = new byte[type.ValueSize];
        var process = bpf.Caller;
        r = FillValue(bpf, obj, variable, type, support, value, fds);
        if (r.IsOk)
        {
            r = bpf.MapCreate(new MapSpec
            {
                Type = MapType.StructOps, KeySize = 4, ValueSize = (uint)type.ValueSize, MaxEntries = 1,
                Flags = variable.IsLink ? MapFlags.Link : MapFlags.None, Name = BpfSystem.ToObjectName(variable.Name), StructOpsType = type.Name,
            }, out int mapFd);
            if (r.IsOk)
            {
                bpf.GetMap(mapFd, out var map).ThrowIfFailed();
                loaded = new LoadedStructOps(bpf, process, variable.Name, (StructOpsMap)map, mapFd, fds) { PendingValue = value };
                return BpfResult.Ok;
            }
        }
        foreach (int fd in fds)
        {
            bpf.Close(fd);
        }
        return r;
    }

    private static BpfResult FillValue(BpfSystem bpf, LoadedObject obj, ObjectStructOps variable, StructOpsType type, BytecodeSupport support,
        byte[] value, List<int> fds)
    {
        var btf = obj.Spec.Btf;
        if (btf[btf.SkipModifiers(variable.TypeId)] is not BtfComposite local)
        {
            return BpfResult.Fail(Errno.EINVAL, $"struct_ops {variable.Name}: its BTF type is not a struct").For(BpfCommand.MapUpdateElem);
        }
        try
        {
            return FillMembers(bpf, obj, variable, type, support, value, fds, btf, local);
        }
        catch (BtfException e)
        {
            return BpfResult.Fail(Errno.EINVAL, $"struct_ops init_kern {variable.Name}: {e.Message}").For(BpfCommand.MapUpdateElem);
        }
    }

    private static BpfResult FillMembers(BpfSystem bpf, LoadedObject obj, ObjectStructOps variable, StructOpsType type, BytecodeSupport support,
        byte[] value, List<int> fds, BtfSpec btf, BtfComposite local)
    {
        var programs = variable.Programs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var data = variable.Data.AsSpan();
        foreach (var m in local.Members)
        {
            int offset = (int)(m.BitOffset / 8);
            int size = m.BitfieldSize != 0 ? 0 : (int)Math.Min(btf.SizeOf(m.Type), (ulong)Math.Max(0, data.Length - offset));
            var bytes = size > 0 && offset < data.Length ? data.Slice(offset, size) : [];
            var kernel = type.FindMember(m.Name);
            if (kernel is null)
            {
                // libbpf skips a member the kernel lacks only when the object leaves it zero.
                if (bytes.IndexOfAnyExcept((byte)0) < 0 && !programs.ContainsKey(m.Name))
                {
                    continue;
                }
                return BpfResult.Fail(Errno.ENOTSUPP, $"struct_ops init_kern {variable.Name}: Cannot find member {m.Name} in kernel BTF")
                    .For(BpfCommand.MapUpdateElem);
            }
            var slot = value.AsSpan(StructOpsType.DataOffset + kernel.Offset, kernel.Size);
            if (kernel.IsFunction)
            {
                if (!programs.TryGetValue(m.Name, out string? programName))
                {
                    continue; // an empty slot
                }
                var program = obj.Programs[programName];
                var source = obj.Spec.Programs.First(p => p.Name == programName);
                var load = bpf.ProgLoad(new ProgramSpec
                {
                    Type = ProgramType.StructOps,
                    Name = programName.Length > 15 ? programName[..15] : programName,
                    License = obj.Spec.License,
                    StructOpsType = type.Name,
                    Member = kernel.Name,
                    Sleepable = source.IsSleepable,
                    Body = support.Trampoline(kernel, program),
                    Bytecode = program,
                }, out int fd);
                if (!load.IsOk)
                {
                    return load;
                }
                fds.Add(fd);
                BinaryPrimitives.WriteUInt64LittleEndian(slot, (ulong)fd);
                continue;
            }
            if (bytes.Length != kernel.Size)
            {
                return BpfResult.Fail(Errno.EINVAL,
                    $"struct_ops init_kern {variable.Name}: Error in size of member {m.Name}: {bytes.Length} != {kernel.Size}").For(BpfCommand.MapUpdateElem);
            }
            bytes.CopyTo(slot);
        }
        return BpfResult.Ok;
    }
}
