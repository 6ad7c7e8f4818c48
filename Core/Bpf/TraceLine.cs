using BpfSim.Core.Simulation;

namespace BpfSim.Core.Bpf;

/// <summary>A bpf_printk line, as trace_pipe would show it, with the simulated time, the CPU and the program.</summary>
public sealed record TraceLine(SimTime Time, int Cpu, string Program, string Text)
{
    /// <summary>trace_pipe's layout: task-pid [cpu] flags timestamp: bpf_trace_printk: text.</summary>
    public override string ToString() =>
        $"           <...>-0       [{Cpu:000}] d..31 {Time.TotalSeconds,12:0.000000}: bpf_trace_printk: {Text}";
}
