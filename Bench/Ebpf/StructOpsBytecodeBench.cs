using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Loading;
using BpfSim.Core.Hosting;
using BpfSim.Core.Simulation;
using BpfSim.Programs;
using BpfSim.Tcp;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using Microsoft.Extensions.DependencyInjection;

namespace BpfSim.Bench.Ebpf;

/// <summary>
/// The cost of one struct_ops call into a clang-compiled program (Programs/bpf/obj), through the stack's ops table:
/// the consumer's fault guard, the trampoline (context, socket and sample bound as regions, ctx[] written), the
/// compiled code (the JIT, as runs use it; <c>_Interpreted</c>: the same object in a kernel with the JIT off) and the
/// kfuncs the program calls; against the built-in algorithm's same member, a C# delegate.
/// cong_avoid and pkts_acked of <c>bpf_cubic_c</c> on a socket in congestion avoidance, and a trivial member,
/// <c>bpf_reno_c</c>'s undo_cwnd (one kfunc call). Instructions per call are printed by the setup.
/// </summary>
/// <remarks>
/// The cong_avoid socket is 1.5 s into a cubic epoch (W_max 100, cwnd 70, delay_min 20 ms) and a jiffy after the last
/// update, so every call runs the whole of bictcp_update and tcp_cong_avoid_ai; the algorithm's state, snd_cwnd and
/// snd_cwnd_cnt are put back before each call (both sides pay for that: <see cref="CongAvoid_RestoreOnly"/>).
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StructOpsBytecodeBench
{
    private const int Batch = 1024;

    private static readonly SimTime s_epoch = SimTime.FromSeconds(10);
    private static readonly SimTime s_now = SimTime.FromMilliseconds(11_500);

    private TcpCongestionOps _cubic = null!;
    private TcpCongestionOps _bpfCubic = null!;
    private TcpCongestionOps _reno = null!;
    private TcpCongestionOps _bpfReno = null!;
    private TcpCongestionOps _bpfCubicInterpreted = null!;
    private TcpCongestionOps _bpfRenoInterpreted = null!;
    private Saved _cubicSk;
    private Saved _bpfCubicSk;
    private Saved _bpfCubicInterpretedSk;
    private TcpSock _sk;
    private AckSample _sample;

    /// <summary>A socket, and a copy of what cong_avoid changes in it.</summary>
    private struct Saved
    {
        public TcpSock Sock;
        public CaPriv Priv;
        public uint SndCwnd;
        public uint SndCwndCnt;

        public Saved(in TcpSock sk)
        {
            Sock = sk;
            Priv = sk.IcskCaPriv;
            SndCwnd = sk.SndCwnd;
            SndCwndCnt = sk.SndCwndCnt;
        }

        public void Restore()
        {
            Sock.IcskCaPriv = Priv;
            Sock.SndCwnd = SndCwnd;
            Sock.SndCwndCnt = SndCwndCnt;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddBpfSim().AddTcp().AddBuiltinPrograms().BuildServiceProvider();
        var catalog = services.GetRequiredService<ConsumerCatalog>();
        var bpf = services.GetRequiredService<BpfSimFactory>().Create();
        var cubicObject = Register(bpf, catalog, "bpf_cubic");
        var renoObject = Register(bpf, catalog, "bpf_reno");
        var registry = ((TcpCongestionOpsType)bpf.FindStructOpsType(TcpCongestionOpsType.TypeName)!).Registry;
        registry.TryAcquire("cubic", out _cubic).ThrowIfFailed();
        registry.TryAcquire("bpf_cubic_c", out _bpfCubic).ThrowIfFailed();
        registry.TryAcquire("reno", out _reno).ThrowIfFailed();
        registry.TryAcquire("bpf_reno_c", out _bpfReno).ThrowIfFailed();

        // The same objects in a kernel whose programs are interpreted (BpfSystemOptions.Jit off).
        var interpreted = services.GetRequiredService<BpfSimFactory>().Create(new BpfSystemOptions { Jit = false });
        Register(interpreted, catalog, "bpf_cubic");
        Register(interpreted, catalog, "bpf_reno");
        var interpretedRegistry = ((TcpCongestionOpsType)interpreted.FindStructOpsType(TcpCongestionOpsType.TypeName)!).Registry;
        interpretedRegistry.TryAcquire("bpf_cubic_c", out _bpfCubicInterpreted).ThrowIfFailed();
        interpretedRegistry.TryAcquire("bpf_reno_c", out _bpfRenoInterpreted).ThrowIfFailed();

        _sample = new AckSample(1, 20_000, 70);
        _cubicSk = InCongestionAvoidance(bpf.Simulator, _cubic, _sample);
        _bpfCubicSk = InCongestionAvoidance(bpf.Simulator, _bpfCubic, _sample);
        _bpfCubicInterpretedSk = InCongestionAvoidance(interpreted.Simulator, _bpfCubicInterpreted, _sample);
        if (bpf.Simulator.Now != s_now)
        {
            throw new InvalidOperationException("both sockets are set up at the same time");
        }
        _sk = new TcpSock { SndCwnd = 10, PriorCwnd = 20, SndSsthresh = 5, SndCwndClamp = 100 };

        uint a = CongAvoid(_cubic, ref _cubicSk), b = CongAvoid(_bpfCubic, ref _bpfCubicSk);
        if (a != b || _cubicSk.Sock.SndCwnd != _bpfCubicSk.Sock.SndCwnd)
        {
            throw new InvalidOperationException($"the object and the built-in disagree on cong_avoid: snd_cwnd_cnt {a} and {b}, snd_cwnd {_cubicSk.Sock.SndCwnd} and {_bpfCubicSk.Sock.SndCwnd}, ssthresh {_cubicSk.Sock.SndSsthresh} {_bpfCubicSk.Sock.SndSsthresh}");
        }

        // Instructions per call, counted by the programs themselves.
        PrintInstructions(cubicObject.Programs["cubic_c_cong_avoid"], () => CongAvoid_Bytecode());
        PrintInstructions(cubicObject.Programs["cubic_c_acked"], () => PktsAcked_Bytecode());
        PrintInstructions(renoObject.Programs["reno_c_undo_cwnd"], () => UndoCwnd_Bytecode());
    }

    private static LoadedObject Register(BpfSystem bpf, ConsumerCatalog catalog, string name)
    {
        string path = BpfObjectFiles.PathOf(name);
        foreach (var info in ConsumerObjectLoader.LoadInto(catalog, path))
        {
            ConsumerLoading.Load(bpf, info, out var loaded).ThrowIfFailed();
            loaded!.Register().ThrowIfFailed();
        }
        return ConsumerLoading.Objects(bpf).Single(o => o.Source == Path.GetFullPath(path));
    }

    /// <summary>
    /// After a loss at cwnd 100 (epoch starting at 10 s with cwnd 70) and an RTT sample of 20 ms, at 11.5 s: the
    /// clock (simulator and tcp_mstamp) moves to that time.
    /// </summary>
    private static Saved InCongestionAvoidance(Simulator sim, TcpCongestionOps ops, AckSample sample)
    {
        if (sim.Now < s_epoch)
        {
            sim.RunUntil(s_epoch);
        }
        var sk = new TcpSock
        {
            SndCwnd = 100, SndSsthresh = TcpSock.InfiniteSsthresh, SndCwndClamp = 10_000, IsCwndLimited = true,
            TcpMstamp = (ulong)s_epoch.Nanoseconds / 1000,
        };
        ops.Init!(ref sk);
        sk.SndSsthresh = ops.Ssthresh!(ref sk);
        sk.SndCwnd = sk.SndSsthresh;
        ops.PktsAcked!(ref sk, in sample);
        ops.CongAvoid!(ref sk, 0, 1);
        sim.RunUntil(s_now);
        sk.TcpMstamp = (ulong)s_now.Nanoseconds / 1000;
        return new Saved(in sk);
    }

    private static void PrintInstructions(BytecodeProgram program, Action batch)
    {
        long runs = program.RunCount, insns = program.InstructionsExecuted;
        batch();
        Console.WriteLine($"// {program.Object.Spec.Name} {program.Name}: " +
                          $"{(program.InstructionsExecuted - insns) / (double)(program.RunCount - runs):0.0} instructions per call");
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("cong_avoid")]
    public uint CongAvoid_RestoreOnly()
    {
        for (int i = 0; i < Batch; i++)
        {
            _cubicSk.Restore();
        }
        return _cubicSk.Sock.SndCwnd;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch), BenchmarkCategory("cong_avoid")]
    public uint CongAvoid_Builtin() => CongAvoid(_cubic, ref _cubicSk);

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("cong_avoid")]
    public uint CongAvoid_Bytecode() => CongAvoid(_bpfCubic, ref _bpfCubicSk);

    private static uint CongAvoid(TcpCongestionOps ops, ref Saved saved)
    {
        var congAvoid = ops.CongAvoid!;
        for (int i = 0; i < Batch; i++)
        {
            saved.Restore();
            congAvoid(ref saved.Sock, 0, 1);
        }
        return saved.Sock.SndCwndCnt;
    }

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("cong_avoid")]
    public uint CongAvoid_Interpreted() => CongAvoid(_bpfCubicInterpreted, ref _bpfCubicInterpretedSk);

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch), BenchmarkCategory("pkts_acked")]
    public uint PktsAcked_Builtin() => PktsAcked(_cubic, ref _cubicSk.Sock, in _sample);

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("pkts_acked")]
    public uint PktsAcked_Bytecode() => PktsAcked(_bpfCubic, ref _bpfCubicSk.Sock, in _sample);

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("pkts_acked")]
    public uint PktsAcked_Interpreted() => PktsAcked(_bpfCubicInterpreted, ref _bpfCubicInterpretedSk.Sock, in _sample);

    private static uint PktsAcked(TcpCongestionOps ops, ref TcpSock sk, in AckSample sample)
    {
        var pktsAcked = ops.PktsAcked!;
        for (int i = 0; i < Batch; i++)
        {
            pktsAcked(ref sk, in sample);
        }
        return sk.SndCwnd;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch), BenchmarkCategory("undo_cwnd")]
    public uint UndoCwnd_Builtin() => UndoCwnd(_reno, ref _sk);

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("undo_cwnd")]
    public uint UndoCwnd_Bytecode() => UndoCwnd(_bpfReno, ref _sk);

    [Benchmark(OperationsPerInvoke = Batch), BenchmarkCategory("undo_cwnd")]
    public uint UndoCwnd_Interpreted() => UndoCwnd(_bpfRenoInterpreted, ref _sk);

    private static uint UndoCwnd(TcpCongestionOps ops, ref TcpSock sk)
    {
        uint sum = 0;
        var undo = ops.UndoCwnd!;
        for (int i = 0; i < Batch; i++)
        {
            sum += undo(ref sk);
        }
        return sum;
    }
}
