using System.Runtime.InteropServices;
using BpfSim.Core.Ebpf.Asm;
using BpfSim.Core.Ebpf.Btf;
using BpfSim.Core.Ebpf.CoRe;
using BpfSim.Core.Ebpf.Memory;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Core.Ebpf.Vm;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Programs;

/// <summary>
/// A test bench, not the loader: runs the struct_ops programs of one of bpfsim's BPF objects in the interpreter on one
/// <see cref="TcpSock"/>, with CO-RE applied against bpfsim's kernel BTF, global data, CONFIG_HZ = 1000, the TCP
/// kfuncs of <see cref="TcpCongKfuncs"/>, the write rules of bpf_tcp_ca_btf_struct_access, and the helpers these
/// objects call: bpf_jiffies64 (tcp_mstamp / 1000, bpfsim's tcp_jiffies32 at each call point), bpf_sk_storage_get
/// (one value per bench), bpf_setsockopt and bpf_tcp_send_ack (recorded).
/// </summary>
internal sealed class BpfObjectRunner
{
    private static readonly BtfSpec s_kernel = KernelBtf.Build([new TcpKernelTypes()]);
    private static readonly string[] s_kfuncs = ["tcp_slow_start", "tcp_cong_avoid_ai", "tcp_reno_ssthresh", "tcp_reno_cong_avoid", "tcp_reno_undo_cwnd"];

    private readonly Dictionary<string, Instruction[]> _programs = [];
    private readonly AddressSpace _memory = new();
    private readonly RegionHandle _sock;
    private readonly RegionHandle _ctx;
    private readonly RegionHandle _sample;
    private readonly byte[] _ctxBytes = new byte[8 * 5];
    private readonly byte[] _sampleBytes = new byte[12];
    private readonly FunctionTable _helpers = new();
    private readonly FunctionTable _kfuncTable = new();
    private readonly TcpSock[] _sk = new TcpSock[1];

    public BpfObjectRunner(string objectName)
    {
        Spec = BpfObjects.Read(objectName);
        var writable = TcpKernelTypes.WritableFields.Select(f => new WritableField(f.Offset, f.End - f.Offset, f.AnyOffsetInside));
        _sock = _memory.MapCallScoped(RegionKind.KernelObject, MemoryAccess.ReadWrite, "tcp_sock", new WriteFilter("tcp_sock", writable));
        _ctx = _memory.Map(_ctxBytes, RegionKind.Context, MemoryAccess.Read, "ctx");
        _sample = _memory.Map(_sampleBytes, RegionKind.KernelObject, MemoryAccess.Read, "ack_sample");

        var sections = new Dictionary<string, (RegionHandle Region, byte[] Bytes)>();
        foreach (var d in Spec.DataSections)
        {
            var bytes = new byte[d.Size];
            d.Bytes.AsSpan().CopyTo(bytes);
            sections[d.Name] = (_memory.Map(bytes, RegionKind.MapValue, d.IsReadOnly ? MemoryAccess.Read : MemoryAccess.ReadWrite, d.Name), bytes);
        }
        Sections = sections.ToDictionary(kv => kv.Key, kv => kv.Value.Bytes);
        var kconfig = _memory.Map(BitConverter.GetBytes(1000UL), RegionKind.MapValue, MemoryAccess.Read, ".kconfig");
        var maps = Spec.Maps.ToDictionary(m => m.Name, m => _memory.Map(new byte[8], RegionKind.MapValue, MemoryAccess.Read, m.Name));
        SkStorage = new byte[Spec.Maps.FirstOrDefault()?.ValueSize ?? 8];
        var storage = _memory.Map(SkStorage, RegionKind.MapValue, MemoryAccess.ReadWrite, "sk_storage");

        _helpers.Add(118, "bpf_jiffies64", (ref RunContext c, ulong a, ulong b, ulong d, ulong e, ulong f) => _sk[0].TcpJiffies32);
        _helpers.Add(107, "bpf_sk_storage_get", (ref RunContext c, ulong map, ulong sk, ulong value, ulong flags, ulong f) =>
        {
            Assert.That((sk, value, flags), Is.EqualTo((AddressSpace.AddressOf(_sock), 0UL, 1UL)), "bpf_sk_storage_get(map, sk, NULL, F_CREATE)");
            return AddressSpace.AddressOf(storage);
        });
        _helpers.Add(49, "bpf_setsockopt", (ref RunContext c, ulong sk, ulong level, ulong name, ulong value, ulong len) =>
        {
            var bytes = c.GetBytes(value, (int)len, MemoryAccess.Read);
            SetSockOpts.Add(((int)level, (int)name, System.Text.Encoding.ASCII.GetString(bytes[..bytes.IndexOf((byte)0)]), (int)len));
            return (ulong)(long)SetSockOptResult;
        });
        _helpers.Add(116, "bpf_tcp_send_ack", (ref RunContext c, ulong tp, ulong rcvNxt, ulong d, ulong e, ulong f) =>
        {
            Assert.That(tp, Is.EqualTo(AddressSpace.AddressOf(_sock)));
            SentAcks.Add(((uint)rcvNxt, _sk[0].EcnFlags));
            return 0;
        });
        _kfuncTable.Add(0, s_kfuncs[0], (ref RunContext c, ulong sk, ulong acked, ulong d, ulong e, ulong f) => TcpCongKfuncs.SlowStart(ref Sk(sk), (uint)acked));
        _kfuncTable.Add(1, s_kfuncs[1], (ref RunContext c, ulong sk, ulong w, ulong acked, ulong e, ulong f) =>
        {
            TcpCongKfuncs.CongAvoidAi(ref Sk(sk), (uint)w, (uint)acked);
            return 0;
        });
        _kfuncTable.Add(2, s_kfuncs[2], (ref RunContext c, ulong sk, ulong b, ulong d, ulong e, ulong f) => TcpCongKfuncs.RenoSsthresh(ref Sk(sk)));
        _kfuncTable.Add(3, s_kfuncs[3], (ref RunContext c, ulong sk, ulong ack, ulong acked, ulong e, ulong f) =>
        {
            TcpCongKfuncs.RenoCongAvoid(ref Sk(sk), (uint)ack, (uint)acked);
            return 0;
        });
        _kfuncTable.Add(4, s_kfuncs[4], (ref RunContext c, ulong sk, ulong b, ulong d, ulong e, ulong f) => TcpCongKfuncs.RenoUndoCwnd(ref Sk(sk)));

        var relocator = new CoreRelocator(s_kernel);
        foreach (var p in Spec.Programs)
        {
            var insns = p.Instructions.ToArray();
            foreach (var relo in p.CoreRelos)
            {
                var result = relocator.Resolve(new CoreRelocation(Spec.Btf, relo.TypeId, relo.AccessString, relo.Kind));
                CoreRelocator.Apply(insns, relo.InsnOffset, result); // an instruction index, relative to the program
            }
            foreach (var r in p.Relocations)
            {
                int i = r.InstructionIndex;
                switch (r.Kind)
                {
                    case RelocationKind.Data:
                        SetImm64(insns, i, AddressSpace.AddressOf(sections[r.Target].Region, (int)(r.SymbolOffset + (ulong)(uint)insns[i].Imm)));
                        break;
                    case RelocationKind.Kconfig:
                        Assert.That(r.Target, Is.EqualTo("CONFIG_HZ"));
                        SetImm64(insns, i, AddressSpace.AddressOf(kconfig));
                        break;
                    case RelocationKind.Map:
                        SetImm64(insns, i, AddressSpace.AddressOf(maps[r.Target]));
                        break;
                    case RelocationKind.Ksym:
                        insns[i] = insns[i].WithSrc(2).WithImm(Array.IndexOf(s_kfuncs, r.Target));
                        break;
                    default:
                        throw new AssertionException($"{p.Name}: unexpected relocation {r.Kind}");
                }
            }
            _programs[p.Name] = insns;
        }
    }

    public ObjectSpec Spec { get; }

    /// <summary>The bytes of each global-data section as the programs left them.</summary>
    public IReadOnlyDictionary<string, byte[]> Sections { get; }

    /// <summary>The socket's sk_storage value (bpf_sk_storage_get always creates it here).</summary>
    public byte[] SkStorage { get; }

    public List<(int Level, int Name, string Value, int Length)> SetSockOpts { get; } = [];

    /// <summary>What bpf_setsockopt returns.</summary>
    public int SetSockOptResult { get; set; }

    /// <summary>bpf_tcp_send_ack calls: rcv_nxt, and ecn_flags when it was called.</summary>
    public List<(uint RcvNxt, byte EcnFlags)> SentAcks { get; } = [];

    public long InstructionsExecuted { get; private set; }

    private ref TcpSock Sk(ulong address)
    {
        Assert.That(address, Is.EqualTo(AddressSpace.AddressOf(_sock)), "a kfunc's socket is the hook's");
        return ref _sk[0];
    }

    private static void SetImm64(Instruction[] insns, int i, ulong value)
    {
        insns[i] = insns[i].WithImm((int)(uint)value);
        insns[i + 1] = insns[i + 1].WithImm((int)(uint)(value >> 32));
    }

    /// <summary>Runs the program the struct_ops member <paramref name="member"/> names on <paramref name="sk"/>, with BPF_PROG's ctx.</summary>
    public ulong Run(string member, ref TcpSock sk, ulong arg1 = 0, ulong arg2 = 0, AckSample? sample = null)
    {
        string name = Spec.StructOps.Single().Programs.Single(kv => kv.Key == member).Value;
        BitConverter.TryWriteBytes(_ctxBytes.AsSpan(0), AddressSpace.AddressOf(_sock));
        BitConverter.TryWriteBytes(_ctxBytes.AsSpan(8), arg1);
        BitConverter.TryWriteBytes(_ctxBytes.AsSpan(16), arg2);
        if (sample is { } s)
        {
            BitConverter.TryWriteBytes(_sampleBytes.AsSpan(0), s.PktsAcked);
            BitConverter.TryWriteBytes(_sampleBytes.AsSpan(4), s.RttUs);
            BitConverter.TryWriteBytes(_sampleBytes.AsSpan(8), s.InFlight);
            BitConverter.TryWriteBytes(_ctxBytes.AsSpan(8), AddressSpace.AddressOf(_sample));
        }
        _sk[0] = sk;
        var context = new RunContext(_memory, _helpers, _kfuncTable);
        context.Bind(_sock, MemoryMarshal.AsBytes(_sk.AsSpan()));
        ulong r0 = Interpreter.Run(_programs[name], 0, ref context, [AddressSpace.AddressOf(_ctx)]);
        InstructionsExecuted += context.InstructionsExecuted;
        sk = _sk[0];
        return r0;
    }
}
