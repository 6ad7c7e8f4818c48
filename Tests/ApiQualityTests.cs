using System.Reflection;
using BpfSim.Core.Bpf;

namespace BpfSim.Tests;

/// <summary>Layering and API rules checked mechanically (STYLE.md §17).</summary>
public sealed class ApiQualityTests
{
    private static readonly Assembly Core = typeof(BpfSystem).Assembly;

    [Test]
    public void Core_ReferencesNoOtherBpfSimAssembly()
    {
        var ours = Core.GetReferencedAssemblies().Where(a => a.Name!.StartsWith("BpfSim", StringComparison.Ordinal));
        Assert.That(ours, Is.Empty);
    }

    [Test]
    public void PublicTypes_HaveNoPublicMutableFields()
    {
        var offenders = Core.GetExportedTypes()
            .Where(t => !t.IsEnum)
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .Where(f => !f.IsInitOnly && !f.IsLiteral)
                .Select(f => $"{t.Name}.{f.Name}"));
        Assert.That(offenders, Is.Empty);
    }

    [Test]
    public void PublicClasses_AreSealedAbstractOrStatic()
    {
        var open = Core.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && !typeof(Delegate).IsAssignableFrom(t))
            .Select(t => t.FullName);
        Assert.That(open, Is.Empty);
    }
}
