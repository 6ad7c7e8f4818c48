using System.Diagnostics;
using BpfSim.Studies;
using BpfSim.Studies.Output;
using BpfSim.Studies.Pcap;
using BpfSim.Studies.Runs;

namespace BpfSim.Tests.Studies.Pcap;

/// <summary>
/// --pcap: the file's structure (headers, lengths, checksums, options, sequence numbers), its agreement with the run's
/// retransmission count (in C# and, where Debian's tshark is installed, in tshark), ECN, and that capturing changes nothing.
/// </summary>
[Category("Studies")]
public sealed class LinkCaptureTests
{
    /// <summary>
    /// Random loss on the bottleneck's wire (after the capture point) and a queue that never drops, so every segment a
    /// sender sent is in the capture; sized flows that finish well before the end, so no retransmission is in flight then.
    /// </summary>
    private const string Lossy = """
        seed: 7
        duration: 8s
        network:
          bottleneck: { rate: 50Mbps, delay: 10ms, loss: 0.01, queue: { type: droptail, limit: 1000 } }
        flows:
          - { count: 2, cc: cubic, start: 0s, size: 1MB }
          - { count: 1, cc: reno, start: 0.2s, size: 1MB }
        """;

    /// <summary>A shallow bottleneck queue that drops; sized flows that finish well before the end.</summary>
    private const string Drops = """
        seed: 3
        duration: 6s
        network:
          bottleneck: { rate: 20Mbps, delay: 10ms, queue: { type: droptail, limit: 20 } }
        flows:
          - { count: 2, cc: cubic, start: 0s, size: 2MB }
          - { count: 1, cc: reno, start: 0.1s, size: 2MB }
        """;

    private const string Ecn = """
        seed: 1
        duration: 2s
        network:
          bottleneck: { rate: 100Mbps, delay: 5ms, queue: { type: ecn_threshold, k: 20, limit: 250 } }
        flows:
          - { count: 2, cc: dctcp, start: 0s }
        """;

    private static (RunOutcome Outcome, string Pcap) Capture(string yaml, string link = "bottleneck")
    {
        var dir = Directory.CreateTempSubdirectory("bpfsim-pcap-").FullName;
        var study = new Study();
        var outcome = study.Run(study.Parse(yaml), new RunSettings { PcapLinks = [link], OutputDirectory = dir });
        Assert.That(outcome.Completed, Is.True, string.Join("; ", outcome.Errors));
        return (outcome, Path.Combine(dir, link + ".pcap"));
    }

    private static long RunRetransmits(RunOutcome outcome) => outcome.Tcp!.Flows.Sum(f => (long)f.Retransmits);

    [Test]
    public void Capture_FileAndFrames_AreWellFormed()
    {
        var (outcome, path) = Capture(Lossy);
        var file = PcapFile.Read(path);
        Assert.That(file.Magic, Is.EqualTo(PcapWriter.NanosecondMagic));
        Assert.That((file.VersionMajor, file.VersionMinor), Is.EqualTo(((ushort)2, (ushort)4)));
        Assert.That(file.SnapLength, Is.EqualTo(LinkCapture.DefaultSnapLength));
        Assert.That(file.LinkType, Is.EqualTo(PcapWriter.LinkTypeEthernet));
        Assert.That(file.Frames, Has.Count.GreaterThan(1000));
        long previous = 0;
        foreach (var f in file.Frames)
        {
            Assert.That(f.TimeNs, Is.GreaterThanOrEqualTo(previous), "frames are in time order");
            Assert.That(f.TimeNs, Is.LessThanOrEqualTo(8_000_000_000L));
            previous = f.TimeNs;
            Assert.That(f.WireLength, Is.EqualTo(14 + f.IpTotalLength));
            Assert.That(f.Captured, Is.EqualTo(Math.Min(f.WireLength, LinkCapture.DefaultSnapLength)));
            Assert.That(f.IpChecksumOk, Is.True, "IPv4 header checksum");
            Assert.That(f.TcpChecksumOk, Is.True, "TCP checksum");
            Assert.That(f.Window, Is.EqualTo(0xFFFF));
            Assert.That(f.Options.Select(o => o.Kind), Does.Contain((byte)8), "timestamps on every segment");
        }
        var syns = file.Frames.Where(f => f.Syn).ToList();
        Assert.That(syns, Has.Count.EqualTo(2 * outcome.Tcp!.Flows.Count), "a SYN and a SYN-ACK per flow");
        foreach (var syn in syns)
        {
            var kinds = syn.Options.Select(o => o.Kind).ToList();
            Assert.That(kinds, Is.EqualTo(new byte[] { 2, 4, 8, 3 }), "MSS, SACK-permitted, timestamps, window scale");
            Assert.That(syn.Options[0].Data, Is.EqualTo(new byte[] { 0x05, 0xa8 }), "MSS 1448");
            Assert.That(syn.Options[3].Data, Is.EqualTo(new byte[] { 7 }));
        }
        Assert.That(file.Frames.Where(f => f.PayloadLength > 0).Select(f => f.PayloadLength).Max(), Is.EqualTo(1448));
        Assert.That(file.Frames.Any(f => f.Options.Any(o => o.Kind == 5)), Is.True, "ACKs carry SACK blocks after losses");
    }

    /// <summary>
    /// Checks that new data follows without gaps, every resent segment is data already seen and the cumulative ACK never
    /// goes back, in every direction of the capture; returns how many segments were resent.
    /// </summary>
    private static long CheckSequence(PcapFile file)
    {
        var highest = new Dictionary<(uint, ushort, uint, ushort), uint>();
        var lastAck = new Dictionary<(uint, ushort, uint, ushort), uint>();
        long retransmissions = 0;
        foreach (var f in file.Frames)
        {
            if (f.Syn)
            {
                highest[f.Direction] = f.Seq + 1;
                continue;
            }
            if (f.PayloadLength > 0)
            {
                uint next = highest[f.Direction];
                uint end = f.Seq + (uint)f.PayloadLength;
                if ((int)(f.Seq - next) < 0)
                {
                    retransmissions++;
                    Assert.That((int)(end - next), Is.LessThanOrEqualTo(0), "a retransmission resends data already seen");
                }
                else
                {
                    Assert.That(f.Seq, Is.EqualTo(next), "new data continues where the last left off: nothing is lost before the capture");
                    highest[f.Direction] = end;
                }
            }
            else if (lastAck.TryGetValue(f.Direction, out var ack))
            {
                Assert.That((int)(f.Ack - ack), Is.GreaterThanOrEqualTo(0), "the cumulative ACK never goes back");
            }
            lastAck[f.Direction] = f.Ack;
        }
        return retransmissions;
    }

    [Test]
    public void Capture_SequenceNumbers_AdvanceWithoutGapsExceptRetransmissionsWhichMatchTheRun()
    {
        var (outcome, path) = Capture(Lossy);
        long retransmissions = CheckSequence(PcapFile.Read(path));
        Assert.That(retransmissions, Is.GreaterThan(0));
        Assert.That(retransmissions, Is.EqualTo(RunRetransmits(outcome)), "segments resent in the capture = the run's retransmits");
    }

    [Test]
    public void Capture_SendersAccessLink_HoldsTheFlowAndEveryRetransmissionOfTheBottlenecksDrops()
    {
        var (outcome, path) = Capture(Drops, "s0_up");
        Assert.That(outcome.Tcp!.Links.Single(l => l.Name == "bottleneck").Drops, Is.GreaterThan(0));
        var flow = outcome.Tcp.Flows[0];
        Assert.That(flow.Completed, Is.True);
        var file = PcapFile.Read(path);
        Assert.That(file.Frames.Select(f => f.Src).Where(ip => ip >> 16 == 0x0A01).Distinct(), Is.EqualTo(new[] { 0x0A010001u }), "flow 1 alone");
        Assert.That(file.Frames.Count(f => f.Syn), Is.EqualTo(2), "its SYN (sent as the link was added) and SYN-ACK");
        long retransmissions = CheckSequence(file);
        Assert.That(retransmissions, Is.GreaterThan(0).And.EqualTo(flow.Retransmits));
    }

    [Test]
    public void Capture_AccessLinkBeyondTheFlows_IsRefusedBeforeTheRun()
    {
        var study = new Study();
        var outcome = study.Run(study.Parse(Drops), new RunSettings { PcapLinks = ["s3_up"], OutputDirectory = Directory.CreateTempSubdirectory().FullName });
        Assert.That(outcome.ExitCode, Is.EqualTo(2));
        Assert.That(outcome.Errors.Single(), Does.Contain("--pcap s3_up: no such link").And.Contain("sI_up"));
    }

    [Test]
    public void Capture_EcnRun_CarriesEctCeEceAndCwr()
    {
        var (outcome, path) = Capture(Ecn);
        var frames = PcapFile.Read(path).Frames;
        var data = frames.Where(f => f.PayloadLength > 0).ToList();
        const byte ece = 0x40, cwr = 0x80;
        Assert.That(frames.Where(f => f.Syn && (f.Flags & 0x10) == 0).All(f => (f.Flags & (ece | cwr)) == (ece | cwr)), Is.True, "ECN-setup SYN");
        Assert.That(frames.Where(f => f.Syn && (f.Flags & 0x10) != 0).All(f => (f.Flags & ece) != 0), Is.True, "ECN-setup SYN-ACK");
        Assert.That(data.Count(f => f.Ecn == 2), Is.GreaterThan(0), "ECT(0) data");
        int ce = data.Count(f => f.Ecn == 3);
        Assert.That(ce, Is.GreaterThan(0).And.LessThanOrEqualTo(outcome.Tcp!.Links.Single(l => l.Name == "bottleneck").EcnMarks));
        Assert.That(frames.Count(f => f.PayloadLength == 0 && (f.Flags & ece) != 0 && !f.Syn), Is.GreaterThan(0), "ACKs echo CE");
        Assert.That(data.Count(f => (f.Flags & cwr) != 0), Is.GreaterThan(0), "senders signal CWR");
    }

    [Test]
    public void Capture_DoesNotChangeTheRunAndIsTheSameEveryTime()
    {
        var study = new Study();
        var plain = study.Run(study.Parse(Lossy));
        var (first, firstPath) = Capture(Lossy);
        var (_, secondPath) = Capture(Lossy);
        string Flows(RunOutcome o)
        {
            var dir = Directory.CreateTempSubdirectory("bpfsim-pcap-flows-").FullName;
            OutputWriter.FlowsTable(o.Tcp!).Write(dir, "flows", OutputFormats.Csv);
            return File.ReadAllText(Path.Combine(dir, "flows.csv"));
        }
        Assert.That(Flows(first), Is.EqualTo(Flows(plain)));
        Assert.That(first.Tcp!.Links.Select(l => (l.Name, l.Drops, l.RandomLosses, l.EcnMarks)),
            Is.EqualTo(plain.Tcp!.Links.Select(l => (l.Name, l.Drops, l.RandomLosses, l.EcnMarks))));
        Assert.That(File.ReadAllBytes(secondPath), Is.EqualTo(File.ReadAllBytes(firstPath)));
    }

    [Test]
    public void Capture_ReverseName_CapturesTheSameLink()
    {
        var (_, forward) = Capture(Ecn);
        var (_, reverse) = Capture(Ecn, "bottleneck_rev");
        Assert.That(File.ReadAllBytes(reverse), Is.EqualTo(File.ReadAllBytes(forward)));
    }

    [Test]
    public void Capture_BothNamesOfOneLink_WriteTheSamePacketsTwice()
    {
        var dir = Directory.CreateTempSubdirectory("bpfsim-pcap-both-").FullName;
        var study = new Study();
        var outcome = study.Run(study.Parse(Ecn), new RunSettings { PcapLinks = ["bottleneck", "bottleneck_rev"], OutputDirectory = dir });
        Assert.That(outcome.Completed, Is.True, string.Join("; ", outcome.Errors));
        var (_, single) = Capture(Ecn);
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "bottleneck.pcap")), Is.EqualTo(File.ReadAllBytes(single)));
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "bottleneck_rev.pcap")), Is.EqualTo(File.ReadAllBytes(single)));
    }

    [Test]
    public void Tshark_ReadsTheCaptureWithoutErrorsAndCountsTheRunsRetransmissions()
    {
        if (!Tshark.Available(out var why))
        {
            Assert.Ignore(why);
        }
        var (outcome, path) = Capture(Lossy);
        var bad = Tshark.Frames(path, "_ws.malformed || _ws.expert.severity >= 0x800000 || ip.checksum.status == 0 || tcp.checksum.status == 0",
            "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE");
        Assert.That(bad, Is.Empty, "tshark finds no malformed frame, no error and no bad checksum");
        Assert.That(Tshark.Frames(path, "frame"), Has.Count.EqualTo(PcapFile.Read(path).Frames.Count));
        // tshark calls a resent segment a retransmission (fast or spurious included), or out-of-order when it comes within
        // an RTT of newer data; bpfsim never reorders a flow, so both are the run's retransmissions. SYNs are left out.
        const string resent = "(tcp.analysis.retransmission || tcp.analysis.out_of_order) && tcp.len > 0";
        Assert.That(Tshark.Frames(path, resent), Has.Count.EqualTo(RunRetransmits(outcome)));
        Assert.That(Tshark.Frames(path, "tcp.analysis.fast_retransmission"), Is.Not.Empty);
        // Queue drops at the bottleneck: a capture upstream of them, on the sender's access link, sees every original.
        var (drops, senderSide) = Capture(Drops, "s0_up");
        Assert.That(Tshark.Frames(senderSide, "_ws.malformed || _ws.expert.severity >= 0x800000"), Is.Empty);
        Assert.That(Tshark.Frames(senderSide, resent), Has.Count.EqualTo(drops.Tcp!.Flows[0].Retransmits));
    }

    /// <summary>Debian's tshark, run on a file.</summary>
    private static class Tshark
    {
        public static bool Available(out string why)
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo("tshark", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                why = "";
                return p.ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                why = "tshark is not installed (Debian: apt-get install tshark; tools/test.sh installs it)";
                return false;
            }
        }

        /// <summary>The frame numbers that match <paramref name="filter"/>.</summary>
        public static List<string> Frames(string path, string filter, params string[] options)
        {
            var info = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["-n", "-r", path, .. options, "-Y", filter, "-T", "fields", "-e", "frame.number"])
            {
                info.ArgumentList.Add(a);
            }
            using var p = Process.Start(info)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
            p.WaitForExit();
            Assert.That(p.ExitCode, Is.Zero, $"tshark -Y '{filter}': {stderr.Result}");
            return lines;
        }
    }
}
