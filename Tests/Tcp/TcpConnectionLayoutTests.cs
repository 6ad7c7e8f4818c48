using System.Runtime.CompilerServices;
using BpfSim.Tcp.Net;
using BpfSim.Tcp.Stack;

namespace BpfSim.Tests.Tcp;

/// <summary>
/// Each end of a connection reads its own run of lines: the lines the network prefetches for an arrival at the
/// sender (an ACK) hold the sender's per-ACK state and none of the receiver's, and the other way round. A field moved
/// to the wrong end's struct, or a struct the runtime splits, fails here.
/// </summary>
[Category("Tcp")]
public sealed class TcpConnectionLayoutTests
{
    private static TcpConnection Connection()
    {
        var s = new TcpScenario();
        return s.Flow("cubic");
    }

    // A class whose one field is where any object's fields begin: 8 bytes after the header a reference points at.
    private sealed class RawObject
    {
        public byte FirstField = 0;
    }

    private static int OffsetOf<T>(TcpConnection conn, ref T field) =>
        8 + (int)Unsafe.ByteOffset(ref Unsafe.As<RawObject>(conn).FirstField, ref Unsafe.As<T, byte>(ref field));

    private static bool Covers(HotLines lines, int offset, int size)
    {
        var (first, second) = lines.Ranges;
        return (offset >= first.From && offset + size <= first.To) || (offset >= second.From && offset + size <= second.To);
    }

    private static bool Touches(HotLines lines, int offset, int size)
    {
        var (first, second) = lines.Ranges;
        return (offset < first.To && offset + size > first.From) || (offset < second.To && offset + size > second.From);
    }

    [Test]
    public void EachEndsHotLines_HoldItsPerPacketState_AndNoneOfTheOtherEnds()
    {
        var conn = Connection();
        var sender = conn.HotLinesOf(sender: true);
        var receiver = conn.HotLinesOf(sender: false);
        Assert.That(sender.Target, Is.SameAs(conn));
        Assert.Multiple(() =>
        {
            foreach (int at in new[] { OffsetOf(conn, ref conn.SndUna), OffsetOf(conn, ref conn.SndNxt), OffsetOf(conn, ref conn.RtoNs), OffsetOf(conn, ref conn.RackMstampUs) })
            {
                Assert.That(Covers(sender, at, 8), Is.True, $"sender field at {at}");
            }
            Assert.That(Covers(sender, OffsetOf(conn, ref conn.Counters), Unsafe.SizeOf<TcpHotCounters>()), Is.True, "the per-ACK counters");
            Assert.That(Covers(sender, OffsetOf(conn, ref conn.PaceTimer), 4), Is.True, "the pacing timer");
            foreach (int at in new[] { OffsetOf(conn, ref conn.RcvNxt), OffsetOf(conn, ref conn.RcvHighest), OffsetOf(conn, ref conn.OwdRunSum) })
            {
                Assert.That(Covers(receiver, at, 8), Is.True, $"receiver field at {at}");
                Assert.That(Touches(sender, at, 8), Is.False, $"the sender's lines hold the receiver's field at {at}");
            }
            foreach (int at in new[] { OffsetOf(conn, ref conn.NumSacks), OffsetOf(conn, ref conn.UnackedSegments), OffsetOf(conn, ref conn.AtoJiffies) })
            {
                Assert.That(Covers(receiver, at, 4), Is.True, $"receiver field at {at}");
            }
            Assert.That(Covers(receiver, OffsetOf(conn, ref conn.DelackTimer), 4), Is.True, "the delayed-ACK timer");
            Assert.That(Touches(receiver, OffsetOf(conn, ref conn.Snd), Unsafe.SizeOf<TcpSenderState>()), Is.False, "the receiver's lines hold sender state");
            Assert.That(Covers(sender, 8, 8) && Covers(receiver, 8, 8), Is.True, "both ends read the references at the object's start");
        });
    }

    [Test]
    public void HotLines_RefuseARangeBeyondWhatTheyCanHold()
    {
        var target = new object();
        Assert.Throws<ArgumentOutOfRangeException>(() => new HotLines(target, -1, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HotLines(target, 0, 70_000));
        Assert.Throws<ArgumentNullException>(() => new HotLines(null!, 0, 8));
        Assert.That(new HotLines(target, 0, 64, 128, 192).Ranges, Is.EqualTo(((0, 64), (128, 192))));
    }
}
