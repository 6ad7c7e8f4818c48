using System.CommandLine;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Cli.Commands;

/// <summary><c>bpfsim list</c>: what this build simulates.</summary>
public static class ListCommand
{
    public static Command Create(TextWriter stdout)
    {
        var command = new Command("list", "List the map types and map-in-map wait strategies this build simulates");
        command.SetAction(_ =>
        {
            stdout.WriteLine("map types:");
            foreach (var t in new[] { MapType.Hash, MapType.Array, MapType.PercpuHash, MapType.PercpuArray, MapType.ArrayOfMaps, MapType.HashOfMaps })
            {
                stdout.WriteLine($"  {t.ShortName(),-14} {t.KernelName()} ({(uint)t})");
            }
            stdout.WriteLine("map-in-map wait strategies:");
            foreach (var w in Enum.GetValues<InnerMapReplaceWait>())
            {
                stdout.WriteLine($"  {RunCommand.WaitName(w),-12} {w}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
