using System.Runtime.ExceptionServices;
using BpfSim.Core.Hosting;
using BpfSim.Core.Workloads;
using BpfSim.Tcp.Workloads;

namespace BpfSim.Studies.Scenarios;

/// <summary>
/// Replays a scenario's <c>xdp:</c> entries alone on a fresh simulated kernel (<see cref="XdpReplay"/>: the actions the
/// run carries out), as <see cref="StructOpsCheck"/> does struct_ops entries: an object or program the loader refuses,
/// an attach the kernel refuses, or a C# program whose constructor throws (or whose maps the kernel refuses) is
/// reported by <c>validate</c> and before <c>run</c> starts, at the entry's line, instead of as a note or a Load fault
/// of the run.
/// </summary>
public static class XdpCheck
{
    /// <summary>The first entry whose program cannot be loaded or attached, as an error; none if all are.</summary>
    /// <param name="maps">The maps the entries' programs create (what <c>--dump-map</c> may name); empty on an error.</param>
    /// <remarks>On a thread of its own: a constructor that does not return within <see cref="StructOpsCheck.Budget"/> is reported.</remarks>
    public static IReadOnlyList<ScenarioError> Check(TcpScenarioSpec spec, BpfSimFactory factory, string file, out IReadOnlyList<XdpMapResult> maps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(factory);
        maps = [];
        if (spec.Xdp.Count == 0)
        {
            return [];
        }
        var replay = new XdpReplay(factory.Create(), spec.Xdp, spec.Seed);
        IReadOnlyList<XdpMapResult> found = [];
        ScenarioRunException? refused = null;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                found = replay.Run(spec.Duration);
            }
            catch (ScenarioRunException e)
            {
                refused = e;
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = "bpfsim xdp check" };
        thread.Start();
        if (!thread.Join(StructOpsCheck.Budget))
        {
            var entry = replay.Current;
            return [StructOpsCheck.At(entry?.Location, file, $"{entry?.Consumer?.Name ?? "an XDP program"}: loading it did not finish within " +
                                                          $"{StructOpsCheck.Budget.TotalSeconds:0} s (a constructor that never returns?)")];
        }
        failure?.Throw();
        if (refused is not null)
        {
            return [StructOpsCheck.At(refused.Location, file, refused.Message)];
        }
        maps = found;
        return [];
    }
}
