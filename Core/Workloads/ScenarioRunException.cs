namespace BpfSim.Core.Workloads;

/// <summary>A scenario could not be carried out (e.g. a consumer the kernel refuses to register); the message says when and why.</summary>
/// <param name="location">The scenario's <c>file:line:column</c> of the action that failed, when known.</param>
public sealed class ScenarioRunException(string message, string? location = null) : Exception(message)
{
    /// <summary>The scenario's <c>file:line:column</c> of the action that failed, or null.</summary>
    public string? Location { get; } = location;
}
