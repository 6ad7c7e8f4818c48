using BpfSim.Core.Workloads.XdpChain;

namespace BpfSim.Tests.Core.Workloads.XdpChain;

/// <summary>
/// The checker's definitions (docs/multi-prog.md §checker) on hand-built packet paths: A (priority 10) before B
/// (priority 20), C (priority 20, free to run before or after B), each with versions 0 and 1.
/// </summary>
[Category("XdpChain")]
public sealed class ChainOrderCheckerTests
{
    private const int A = 0, B = 1, C = 2;
    private readonly ChainOrderChecker _checker = new([10, 20, 20]);

    private static SeenProgram P(int component, int version = 0) => new(component, version);

    private (int Total, long[] ByKind, List<(ViolationKind Kind, int Component)> Details) Check(SeenProgram[] seen, params ComponentExpectation[] expected)
    {
        var byKind = new long[4];
        var details = new List<(ViolationKind, int)>();
        int total = _checker.Check(seen, expected, byKind, details);
        return (total, byKind, details);
    }

    [Test]
    public void Check_PathInIntendedOrder_HasNoViolation()
    {
        var r = Check([P(A), P(B)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Total, Is.Zero);
    }

    [Test]
    public void Check_AttachedComponentMissing_IsOneSkip()
    {
        var r = Check([P(A)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Skipped, B) }));
    }

    [Test]
    public void Check_SameProgramTwice_IsOneDuplicate()
    {
        var r = Check([P(A), P(B), P(B)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Duplicate, B) }));
    }

    [Test]
    public void Check_BothVersionsDuringReplace_IsDuplicateNotSkip()
    {
        var r = Check([P(A, 0), P(A, 1), P(B)], ComponentExpectation.Replacing(0, 1), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Duplicate, A) }));
    }

    [Test]
    public void Check_LaterPriorityFirst_IsOutOfOrderOfTheEarlierComponent()
    {
        var r = Check([P(B), P(A)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.OutOfOrder, A) }));
    }

    [Test]
    public void Check_EqualPriorities_MayRunInEitherOrder()
    {
        var r = Check([P(A), P(C), P(B)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Attached(0));
        Assert.That(r.Total, Is.Zero);
    }

    [Test]
    public void Check_StoppedComponentRun_IsStale()
    {
        var r = Check([P(A), P(B)], ComponentExpectation.Attached(0), ComponentExpectation.Absent, ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Stale, B) }));
    }

    [Test]
    public void Check_ReplacedVersionRunInsteadOfNew_IsStaleAndSkip()
    {
        // B was replaced by version 1 (the replace returned); the packet still went through version 0.
        var r = Check([P(A), P(B, 0)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(1), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Stale, B), (ViolationKind.Skipped, B) }));
    }

    [TestCase(0, true)]
    [TestCase(1, false)]
    public void Check_ChangeInProgress_AllowsEitherOutcome(int kind, bool seesIt)
    {
        // A start of B (kind 0) or a stop of B (kind 1) is in progress: seeing B or not are both fine.
        var b = kind == 0 ? ComponentExpectation.Starting(0) : ComponentExpectation.Stopping(0);
        SeenProgram[] seen = seesIt ? [P(A), P(B)] : [P(A)];
        Assert.That(Check(seen, ComponentExpectation.Attached(0), b, ComponentExpectation.Absent).Total, Is.Zero);
        SeenProgram[] other = seesIt ? [P(A)] : [P(A), P(B)];
        Assert.That(Check(other, ComponentExpectation.Attached(0), b, ComponentExpectation.Absent).Total, Is.Zero);
    }

    [Test]
    public void Check_ReplaceInProgressWithNeitherVersion_IsSkip()
    {
        var r = Check([P(B)], ComponentExpectation.Replacing(0, 1), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.That(r.Details, Is.EqualTo(new[] { (ViolationKind.Skipped, A) }));
    }

    [Test]
    public void Check_CountsEachKindSeparately()
    {
        // Stale C, B before A (A out of order), B twice.
        var r = Check([P(C), P(B), P(A), P(B)], ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent);
        Assert.Multiple(() =>
        {
            Assert.That(r.ByKind[(int)ViolationKind.Stale], Is.EqualTo(1));
            Assert.That(r.ByKind[(int)ViolationKind.OutOfOrder], Is.EqualTo(1));
            Assert.That(r.ByKind[(int)ViolationKind.Duplicate], Is.EqualTo(1));
            Assert.That(r.ByKind[(int)ViolationKind.Skipped], Is.Zero);
            Assert.That(r.Total, Is.EqualTo(3));
        });
    }

    [Test]
    public void Check_WithoutDetails_AllocatesNothing()
    {
        SeenProgram[] seen = [P(A), P(B)];
        ComponentExpectation[] expected = [ComponentExpectation.Attached(0), ComponentExpectation.Attached(0), ComponentExpectation.Absent];
        var byKind = new long[4];
        _checker.Check(seen, expected, byKind);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _checker.Check(seen, expected, byKind);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
