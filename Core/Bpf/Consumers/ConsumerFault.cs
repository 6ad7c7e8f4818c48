using System.Text.Json.Serialization;
using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf.Consumers;

/// <summary>Why a consumer was ejected.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConsumerFaultKind>))]
public enum ConsumerFaultKind
{
    /// <summary>A member threw (the analogue of a BPF program's runtime error).</summary>
    Exception,
    /// <summary>A member did not return within the wall-clock budget (the analogue of the sched_ext watchdog).</summary>
    Timeout,
    /// <summary>A member re-entered the consumer through kfuncs deeper than <see cref="ConsumerGuard.MaxDepth"/>.</summary>
    Recursion,
    /// <summary>The consumer could not be constructed when it was to be registered.</summary>
    Load,
}

/// <summary>A consumer's fault: who, in which member, when (simulated), and what happened.</summary>
public sealed record ConsumerFault(
    [property: JsonPropertyName("consumer")] string Consumer,
    [property: JsonPropertyName("map_id")] uint MapId,
    [property: JsonPropertyName("member")] string Member,
    [property: JsonPropertyName("kind")] ConsumerFaultKind Kind,
    [property: JsonIgnore] SimTime Time,
    [property: JsonPropertyName("message")] string Message)
{
    [JsonPropertyName("t_s")]
    public double Seconds => Time.TotalSeconds;

    public override string ToString() => $"t={Time}: {Consumer}.{Member}: {Message}";
}
