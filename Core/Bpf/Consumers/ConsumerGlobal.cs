namespace BpfSim.Core.Bpf.Consumers;

/// <summary>
/// One <c>globals:</c> setting of a structops entry: a variable of a BPF object (in <c>.rodata</c>, <c>.data</c> or
/// <c>.bss</c>, by its BTF name) or a named option of a C# consumer (<see cref="StructOpsOptionAttribute"/>), set
/// before the consumer loads, as a libbpf skeleton's <c>skel-&gt;rodata-&gt;x = …</c> does.
/// </summary>
/// <param name="Name">The variable's or option's name.</param>
/// <param name="Value">The value as the scenario writes it (the YAML scalar's text: <c>true</c>, <c>42</c>, <c>0x10</c>, <c>-3</c>, an enumerator's name, a string).</param>
/// <param name="Location">Where it is written (<c>file:line:column</c>), for errors; null if not from a file.</param>
public sealed record ConsumerGlobal(string Name, string Value, string? Location = null);

/// <summary>Why a <see cref="ConsumerGlobal"/> cannot be applied to a consumer.</summary>
/// <param name="Global">The setting at fault (its <see cref="ConsumerGlobal.Location"/> is where to report it).</param>
/// <param name="Message">What is wrong, in one sentence naming the variable and its type.</param>
public sealed record ConsumerGlobalError(ConsumerGlobal Global, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Global.Location is { } at ? $"{at}: {Message}" : Message;
}
