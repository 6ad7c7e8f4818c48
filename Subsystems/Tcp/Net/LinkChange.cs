using BpfSim.Core.Simulation;

namespace BpfSim.Tcp.Net;

/// <summary>
/// A change to a link at a time: its rate, its propagation delay and its loss probability, each kept when null.
/// Applied by <see cref="Network.ScheduleChange"/>.
/// </summary>
/// <param name="At">When the change applies.</param>
/// <param name="RateBps">The new rate (not for a trace-driven link, whose rate is its trace).</param>
/// <param name="Delay">The new one-way propagation delay.</param>
/// <param name="Loss">The new probability of losing a packet on the wire (Bernoulli).</param>
public readonly record struct LinkChange(SimTime At, long? RateBps = null, SimTime? Delay = null, double? Loss = null);
