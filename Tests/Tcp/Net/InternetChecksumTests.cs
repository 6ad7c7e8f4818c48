using BpfSim.Tcp.Net;

namespace BpfSim.Tests.Tcp.Net;

[Category("Studies")]
public sealed class InternetChecksumTests
{
    [Test]
    public void Of_Rfc1071Example_IsTheComplementOfTheFoldedSum()
    {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2; the checksum is its complement.
        Assert.That(InternetChecksum.Of([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), Is.EqualTo(0x220d));
    }

    [Test]
    public void Of_Ipv4Header_MatchesTheKnownValueAndVerifiesToZero()
    {
        byte[] header = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        Assert.That(InternetChecksum.Of(header), Is.EqualTo(0xb861));
        header[10] = 0xb8;
        header[11] = 0x61;
        Assert.That(InternetChecksum.Of(header), Is.Zero);
    }

    [Test]
    public void Add_OddLength_PadsTheLastByteWithZero()
    {
        Assert.That(InternetChecksum.Of([0x12, 0x34, 0x56]), Is.EqualTo(InternetChecksum.Of([0x12, 0x34, 0x56, 0x00])));
    }
}
