using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Congestion;
using BpfSim.Tcp.Stack;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>A C# consumer's [StructOpsOption] fields and properties set from a structops entry's <c>globals:</c>.</summary>
public sealed class ConsumerOptionsTests
{
    public enum Backoff
    {
        Half,
        Gentle,
    }

    /// <summary>Reno whose back-off factor and behaviour come from options.</summary>
    [StructOps("tcp_congestion_ops", Name = "opt_cc", Description = "options test")]
    public sealed class OptionCc : TcpCongestionOpsProgram
    {
        [StructOpsOption("percent")]
        public byte Percent = 50;

        [StructOpsOption("backoff")]
        public Backoff Mode { get; set; }

        [StructOpsOption("fifo_sched")]
        public bool Fifo;

        [StructOpsOption("label")]
        public string Label { get; set; } = "";

        [StructOpsOption("offset")]
        public long Offset;

        [StructOpsOption("gain")]
        public double Gain = 1;

        public static OptionCc? Last;

        public OptionCc() => Last = this;

        public override uint Ssthresh(ref TcpSock sk) => Math.Max(sk.SndCwnd * Percent / 100, 2u);

        public override void CongAvoid(ref TcpSock sk, uint ack, uint acked) => TcpCongKfuncs.RenoCongAvoid(ref sk, ack, acked);

        public override uint UndoCwnd(ref TcpSock sk) => TcpCongKfuncs.RenoUndoCwnd(ref sk);
    }

    private static ConsumerGlobal G(string name, string value) => new(name, value, "s.yaml:9:14");

    [Test]
    public void Options_SetAfterConstruction_BeforeLoad()
    {
        var s = new TcpScenario();
        var info = s.System.Catalog.Find("opt_cc") ?? s.System.Catalog.Add(typeof(OptionCc), "tests");
        ConsumerGlobal[] globals = [G("percent", "70"), G("backoff", "Gentle"), G("fifo_sched", "true"), G("label", "x y"), G("offset", "-3"), G("gain", "0.5")];
        Assert.That(ConsumerGlobals.Check(info, globals), Is.Empty);

        var r = ConsumerLoading.Load(s.System.Bpf, info, globals, out var loaded);

        Assert.That(r.IsOk, r.Reason);
        var cc = OptionCc.Last!;
        Assert.That((cc.Percent, cc.Mode, cc.Fifo, cc.Label, cc.Offset, cc.Gain), Is.EqualTo(((byte)70, Backoff.Gentle, true, "x y", -3L, 0.5)));
        loaded!.Dispose();
    }

    [TestCase("nope", "1", "opt_cc has no option 'nope' (it has: backoff, fifo_sched, gain, label, offset, percent)")]
    [TestCase("percent", "256", "option 'percent' of opt_cc (Byte): 256 does not fit (0 … 255)")]
    [TestCase("backoff", "Steep", "option 'backoff' of opt_cc (Backoff): 'Steep' is neither a member of Backoff (Half, Gentle) nor a number")]
    [TestCase("fifo_sched", "maybe", "option 'fifo_sched' of opt_cc (Boolean): 'maybe' is not a bool (true or false)")]
    [TestCase("gain", "fast", "option 'gain' of opt_cc (Double): 'fast' is not a number")]
    public void Options_BadNameOrValue_ErrorAtItsLocation(string name, string value, string message)
    {
        var s = new TcpScenario();
        var info = s.System.Catalog.Find("opt_cc") ?? s.System.Catalog.Add(typeof(OptionCc), "tests");

        var errors = ConsumerGlobals.Check(info, [G(name, value)]);

        Assert.That(errors.Single().ToString(), Is.EqualTo("s.yaml:9:14: " + message));
        var r = ConsumerLoading.Load(s.System.Bpf, info, [G(name, value)], out var loaded);
        Assert.That((r.Errno, loaded is null), Is.EqualTo((Errno.EINVAL, true)));
    }

    [Test]
    public void Options_Describe_NamesAndTypes()
    {
        var s = new TcpScenario();
        var info = s.System.Catalog.Find("opt_cc") ?? s.System.Catalog.Add(typeof(OptionCc), "tests");
        Assert.That(ConsumerGlobals.Describe(info), Does.Contain(("fifo_sched", "Boolean")).And.Contain(("backoff", "Backoff")));
    }
}
