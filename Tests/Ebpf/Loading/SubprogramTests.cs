using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Tcp.Stack;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>bpf-to-bpf calls: .text functions appended and linked as libbpf links them, and checked as the caller's code.</summary>
public sealed class SubprogramTests
{
    private static BpfResult Register(TcpTestSystem system, string objectName, string variable)
    {
        var info = ConsumerObjectLoader.LoadInto(system.Catalog, TestObjects.PathOf(objectName)).Single(i => i.Name == variable);
        var r = ConsumerLoading.Load(system.Bpf, info, out var loaded);
        return r.IsOk ? loaded!.Register() : r;
    }

    [TestCase("tcp_ca_subprogs")]
    [TestCase("tcp_ca_subprogs.v3")]
    public void StaticCallInsideText_IsFollowed_AndTheChainComputes(string objectName)
    {
        var system = new TcpTestSystem();
        var r = Register(system, objectName, "sub_cc");
        Assert.That(r.IsOk, r.Reason);
        var ops = system.Registry.Find("sub_cc")!;
        var sk = TcpTestSystem.Socket(cwnd: 40);

        uint ssthresh;
        using (system.Bpf.EnterProgram(0))
        {
            ssthresh = ops.Ssthresh!(ref sk);
        }

        // mid(3) = leaf(4) * 2 = 8, glob(1) = leaf(1) + 5 = 6, tcp_reno_ssthresh = 40 / 2.
        Assert.That(ssthresh, Is.EqualTo(8 + 6 + 20));
        Assert.That(ops.Guard!.Fault, Is.Null);
    }

    [Test]
    public void WriteInAStaticCallee_ThroughThePassedSocket_RefusedAtLoad()
    {
        var r = Register(new TcpTestSystem(), "tcp_ca_subprogs", "sub_write");

        Assert.That(r.Errno, Is.EqualTo(Errno.EACCES));
        int sndUna = TcpKernelTypes.Fields.Single(f => f.Struct == "tcp_sock" && f.Member == "snd_una").Offset;
        Assert.That(r.Reason, Does.Contain($"prog 'write_cong_avoid': no write support to tcp_sock at off {sndUna}"));
    }
}
