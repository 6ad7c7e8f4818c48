namespace BpfSim.Core.Ebpf.Memory;

/// <summary>
/// One member a program may write in a filtered region: a store must start at <see cref="Offset"/> (or anywhere
/// inside when <see cref="AnyOffsetWithin"/>, as for icsk_ca_priv) and end by Offset + Size.
/// </summary>
public readonly record struct WritableField(int Offset, int Size, bool AnyOffsetWithin = false)
{
    /// <summary>The offset just past the member (offsetofend).</summary>
    public int End => Offset + Size;
}
