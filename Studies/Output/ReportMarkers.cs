using System.Globalization;
using BpfSim.Core.Bpf.Consumers;
using BpfSim.Core.Bpf.StructOps;
using BpfSim.Studies.Output.Charts;

namespace BpfSim.Studies.Output;

/// <summary>
/// The events a TCP report marks on every time plot: struct_ops registrations, unregistrations, link attach, detach
/// and update (from each map's timeline), and consumer ejections (from the faults). Events at the same instant share
/// one marker, their labels joined.
/// </summary>
public static class ReportMarkers
{
    public static IReadOnlyList<ChartMarker> For(IReadOnlyList<StructOpsSummary> maps, IReadOnlyList<ConsumerFault> faults)
    {
        var events = new List<(double T, string Label, string Detail, string Colour)>();
        foreach (var m in maps)
        {
            foreach (var e in m.Timeline)
            {
                // "unlinked (update)" is the other half of the new map's "linked (update)": one marker says it.
                string? colour = e.Event switch
                {
                    "registered" or "linked" => ReportPalette.Attach,
                    "unregistered" or "unlinked" => ReportPalette.Detach,
                    "linked (update)" => ReportPalette.Update,
                    _ => null,
                };
                if (colour is not null)
                {
                    string what = e.Event == "linked (update)" ? "link updated to" : e.Event;
                    events.Add((e.Seconds, $"{what} {m.Name} #{m.MapId}",
                        $"t={Seconds(e.Seconds)} s: map {m.MapId} ({m.Name}, {m.Type}) {e.Event}, refcnt {e.RefCount}", colour));
                }
            }
        }
        foreach (var f in faults)
        {
            events.Add((f.Seconds, $"{f.Consumer} ejected",
                $"t={Seconds(f.Seconds)} s: {f.Consumer} ejected ({f.Kind} in {f.Member}): {f.Message}", ReportPalette.Fault));
        }
        // Stable by time, then in the order found (maps by id, then faults).
        return events
            .Select((e, i) => (e, i))
            .OrderBy(x => x.e.T).ThenBy(x => x.i)
            .GroupBy(x => Math.Round(x.e.T, 6))
            .Select(g =>
            {
                var items = g.Select(x => x.e).ToList();
                // A fault's red wins over the other kinds at the same instant.
                string colour = items.Any(e => e.Colour == ReportPalette.Fault) ? ReportPalette.Fault : items[0].Colour;
                return new ChartMarker(g.Key, string.Join(" · ", items.Select(e => e.Label)), string.Join("<br>", items.Select(e => e.Detail)), colour);
            })
            .ToList();
    }

    private static string Seconds(double s) => s.ToString("0.######", CultureInfo.InvariantCulture);
}
