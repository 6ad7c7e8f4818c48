namespace BpfSim.Cli;

/// <summary>The exit codes of DESIGN §5.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int SimulationFailed = 1;
    public const int BadInput = 2;
}
