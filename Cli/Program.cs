using BpfSim.Cli.Commands;

namespace BpfSim.Cli;

/// <summary>The <c>bpfsim</c> command. Exit codes: 0 success, 1 the simulation failed, 2 bad input, 3 completed with a consumer fault.</summary>
public static class Program
{
    public static int Main(string[] args) => BpfSimCommand.Invoke(args, Console.Out, Console.Error);
}
