using System.Buffers.Binary;
using System.Text;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Ebpf.Spec;
using BpfSim.Tests.Tcp;

namespace BpfSim.Tests.Ebpf.Loading;

/// <summary>
/// bpf_setsockopt/bpf_getsockopt(TCP_CONGESTION) from a BPF congestion control's init, with the kernel's rules
/// (sol_tcp_sockopt_congestion in net/core/filter.c): "cdg" is ENOTSUPP, a switch re-inits the socket with the new
/// algorithm, and that algorithm's own switch back from its init is EBUSY (bpf_chg_cc_inprogress).
/// </summary>
public sealed class SetsockoptTests
{
    [TestCase("tcp_ca_setsockopt")]
    [TestCase("tcp_ca_setsockopt.v3")]
    public void InitSwitchesToAnother_WhoseSwitchBackIsEbusy(string objectName)
    {
        var s = new TcpScenario();
        foreach (var info in ConsumerObjectLoader.LoadInto(s.System.Catalog, TestObjects.PathOf(objectName)))
        {
            var r = ConsumerLoading.Load(s.System.Bpf, info, out var loaded);
            Assert.That(r.IsOk, r.Reason);
            Assert.That(loaded!.Register().IsOk);
        }
        var conn = s.Flow("ss_x");
        s.RunFor(1);

        Assert.That(conn.Ops.Name, Is.EqualTo("ss_y"), "x's init moved the socket to y");
        var bss = Globals(s.System.Bpf, objectName);
        Assert.Multiple(() =>
        {
            Assert.That(Int(bss, "x_cdg_result"), Is.EqualTo(-(int)Errno.ENOTSUPP), "cdg is refused");
            Assert.That(Int(bss, "x_switch_result"), Is.Zero, "the switch to ss_y");
            Assert.That(Int(bss, "y_inits"), Is.EqualTo(1), "y's init ran once, inside the switch");
            Assert.That(Int(bss, "y_back_result"), Is.EqualTo(-(int)Errno.EBUSY), "the loop init → setsockopt → init is stopped");
            Assert.That(Int(bss, "y_getsockopt_result"), Is.Zero);
            Assert.That(Encoding.ASCII.GetString(Bytes(bss, "y_saw")).TrimEnd('\0'), Is.EqualTo("ss_y"), "getsockopt sees the new algorithm");
        });
        ref var sk = ref s.Stack.Sock(conn.Id);
        Assert.That(sk.BpfChgCcInProgress, Is.Zero, "the flag is cleared after the switch");
        Assert.That(conn.Stats.BytesAcked, Is.GreaterThan(1_000_000), "the flow runs on ss_y");
    }

    /// <summary>The object's global data as the programs left it: every section's bytes, read through its map.</summary>
    private static Dictionary<string, (byte[] Value, ObjectDataSection Section)> Globals(BpfSystem bpf, string objectName)
    {
        var obj = ConsumerLoading.Objects(bpf).Single(o => Path.GetFileNameWithoutExtension(o.Source) == objectName);
        var result = new Dictionary<string, (byte[], ObjectDataSection)>();
        foreach (var section in obj.Spec.DataSections)
        {
            var (_, fd, map) = obj.Maps.Single(m => m.Name == section.Name);
            var value = new byte[map.ValueSize];
            bpf.MapLookupElem(fd, new byte[4], value).ThrowIfFailed();
            foreach (var v in section.Variables)
            {
                result[v.Name] = (value, section);
            }
        }
        return result;
    }

    private static ReadOnlySpan<byte> Bytes(Dictionary<string, (byte[] Value, ObjectDataSection Section)> globals, string name)
    {
        var (value, section) = globals[name];
        var v = section.Variables.Single(x => x.Name == name);
        return value.AsSpan((int)v.Offset, (int)v.Size);
    }

    private static int Int(Dictionary<string, (byte[] Value, ObjectDataSection Section)> globals, string name) =>
        BinaryPrimitives.ReadInt32LittleEndian(Bytes(globals, name));
}
