namespace BpfSim.Tests.Core.Simulation;

/// <summary>Values computed once from the implementation and pinned, so a change to the generator is noticed.</summary>
internal static class GoldenValues
{
    /// <summary>The first three outputs of <c>SimRandom.For(1, "bottleneck")</c>.</summary>
    public static readonly ulong[] BottleneckSeed1 = [11624359687905277541UL, 12688190716536479427UL, 14028547641112445180UL];
}
