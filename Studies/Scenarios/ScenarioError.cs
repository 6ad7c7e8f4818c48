namespace BpfSim.Studies.Scenarios;

/// <summary>One problem in a scenario file, with where it is.</summary>
public sealed record ScenarioError(string File, int Line, int Column, string Message)
{
    /// <summary><c>file:line:column: message</c>, on one line whatever the message holds.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message.ReplaceLineEndings(" ")}";
}

/// <summary>A scenario file has problems; nothing was run.</summary>
public sealed class ScenarioException(IReadOnlyList<ScenarioError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ScenarioError> Errors { get; } = errors;
}
