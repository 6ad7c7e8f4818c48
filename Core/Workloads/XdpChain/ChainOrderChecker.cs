namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// Checks one packet's path (the component programs it went through, in order) against what was intended at that
/// instant (<see cref="ComponentExpectation"/> per component) and the components' priorities. Allocation-free when
/// no details are asked for.
/// </summary>
/// <remarks>
/// Definitions (docs/multi-prog.md §checker), per packet:
/// <list type="bullet">
/// <item><see cref="ViolationKind.Stale"/>: each run of a version its component does not allow now (stopped,
/// replaced, not started); such a run does not count as the component being seen.</item>
/// <item><see cref="ViolationKind.Duplicate"/>: each allowed run of a component after its first (the same version
/// again, or the other version of a replace).</item>
/// <item><see cref="ViolationKind.Skipped"/>: each component that is required now and had no allowed run.</item>
/// <item><see cref="ViolationKind.OutOfOrder"/>: each allowed run that comes after an allowed run of a component of
/// strictly higher priority (equal priorities may run in either order).</item>
/// </list>
/// </remarks>
public sealed class ChainOrderChecker
{
    private readonly int[] _priorities;
    private readonly int[] _seenCount;

    /// <param name="priorities">Each component's priority, lower runs first.</param>
    public ChainOrderChecker(IReadOnlyList<int> priorities)
    {
        _priorities = [.. priorities];
        _seenCount = new int[_priorities.Length];
    }

    public int Components => _priorities.Length;

    /// <summary>Checks one packet.</summary>
    /// <param name="seen">The component programs the packet went through, in order.</param>
    /// <param name="expected">One expectation per component.</param>
    /// <param name="byKind">Incremented per violation, indexed by <see cref="ViolationKind"/>.</param>
    /// <param name="details">When not null, receives every violation with its component.</param>
    /// <returns>The number of violations.</returns>
    public int Check(ReadOnlySpan<SeenProgram> seen, ReadOnlySpan<ComponentExpectation> expected, Span<long> byKind,
        List<(ViolationKind Kind, int Component)>? details = null)
    {
        if (expected.Length != _priorities.Length)
        {
            throw new ArgumentException($"{expected.Length} expectations for {_priorities.Length} components", nameof(expected));
        }
        Array.Clear(_seenCount);
        int violations = 0;
        int maxPriority = int.MinValue;
        for (int i = 0; i < seen.Length; i++)
        {
            var s = seen[i];
            if (!expected[s.Component].Allows(s.Version))
            {
                violations += Add(ViolationKind.Stale, s.Component, byKind, details);
                continue;
            }
            if (++_seenCount[s.Component] > 1)
            {
                violations += Add(ViolationKind.Duplicate, s.Component, byKind, details);
            }
            int priority = _priorities[s.Component];
            if (priority < maxPriority)
            {
                violations += Add(ViolationKind.OutOfOrder, s.Component, byKind, details);
            }
            maxPriority = Math.Max(maxPriority, priority);
        }
        for (int c = 0; c < expected.Length; c++)
        {
            if (expected[c].Required && _seenCount[c] == 0)
            {
                violations += Add(ViolationKind.Skipped, c, byKind, details);
            }
        }
        return violations;
    }

    private static int Add(ViolationKind kind, int component, Span<long> byKind, List<(ViolationKind, int)>? details)
    {
        byKind[(int)kind]++;
        details?.Add((kind, component));
        return 1;
    }
}
