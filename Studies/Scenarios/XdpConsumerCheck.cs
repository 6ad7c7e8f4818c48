using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Hosting;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Loads each C# XDP program of a scenario's <c>xdp:</c> entries once on a fresh simulated kernel before the run, as
/// <see cref="StructOpsCheck"/> does struct_ops consumers: a constructor that throws (or whose maps the kernel refuses)
/// is reported by <c>validate</c> and before <c>run</c> starts, at the entry's line, instead of as a Load fault.
/// </summary>
public static class XdpConsumerCheck
{
    /// <summary>The entries whose program cannot be loaded, as errors; none if all load.</summary>
    /// <remarks>On a thread of its own: a constructor that does not return within <see cref="StructOpsCheck.Budget"/> is reported.</remarks>
    public static IReadOnlyList<ScenarioError> Check(TcpScenarioSpec spec, BpfSimFactory factory, string file)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(factory);
        var entries = spec.Xdp.Where(e => e.Consumer is not null).ToList();
        if (entries.Count == 0)
        {
            return [];
        }
        var errors = new List<ScenarioError>();
        XdpEntry? current = null;
        var thread = new Thread(() =>
        {
            var bpf = factory.Create();
            foreach (var entry in entries)
            {
                Volatile.Write(ref current, entry);
                try
                {
                    var r = XdpConsumerLoader.Load(bpf, entry.Consumer!, entry.Globals, 0, out _);
                    if (!r.IsOk)
                    {
                        lock (errors)
                        {
                            errors.Add(StructOpsCheck.At(entry.Location, file, $"{entry.Consumer!.Name}: {r}"));
                        }
                    }
                }
                catch (ConsumerLoadException e)
                {
                    lock (errors)
                    {
                        errors.Add(StructOpsCheck.At(entry.Location, file, e.Message));
                    }
                }
            }
        }) { IsBackground = true, Name = "bpfsim xdp check" };
        thread.Start();
        if (!thread.Join(StructOpsCheck.Budget))
        {
            var entry = Volatile.Read(ref current);
            return [StructOpsCheck.At(entry?.Location, file, $"{entry?.Consumer?.Name ?? "an XDP program"}: loading it did not finish within " +
                                                          $"{StructOpsCheck.Budget.TotalSeconds:0} s (a constructor that never returns?)")];
        }
        lock (errors)
        {
            return errors.ToList();
        }
    }
}
