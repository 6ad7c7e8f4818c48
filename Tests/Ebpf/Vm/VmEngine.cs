using BpfSim.Core.Ebpf.Jit;
using BpfSim.Core.Ebpf.Vm;

namespace BpfSim.Tests.Ebpf.Vm;

/// <summary>What runs a test's program: the interpreter, or the JIT's compiled code (which must behave the same).</summary>
public enum VmEngine
{
    Interpreter,
    Jit,
}

/// <summary>
/// A fixture that runs once per engine: every test of the interpreter's rules is also a test of the JIT, so a
/// difference between the two fails the rule's own test.
/// </summary>
[TestFixture(VmEngine.Interpreter)]
[TestFixture(VmEngine.Jit)]
public abstract class VmEngineFixture
{
    protected VmEngineFixture(VmEngine engine) => Engine = engine;

    public VmEngine Engine { get; }

    [SetUp]
    public void SelectEngine() => TestVm.Engine = Engine;

    [TearDown]
    public void ResetEngine() => TestVm.Engine = VmEngine.Interpreter;
}
