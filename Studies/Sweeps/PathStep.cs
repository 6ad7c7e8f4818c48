namespace BpfSim.Studies.Sweeps;

/// <summary>One step of a <see cref="ScenarioPath"/>: a mapping key (<see cref="Name"/>) or a list index.</summary>
public readonly record struct PathStep(string? Name, int Index)
{
    public static PathStep Key(string name) => new(name, -1);

    public static PathStep At(int index) => new(null, index);
}
