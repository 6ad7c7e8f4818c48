namespace BpfSim.Studies;

/// <summary>The exit codes: 0 success, 1 the simulation failed, 2 bad input, 3 completed with a consumer fault.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int SimulationFailed = 1;
    public const int BadInput = 2;
    /// <summary>The run completed and wrote every output, but a consumer faulted and was ejected on the way.</summary>
    public const int CompletedWithFault = 3;
}
