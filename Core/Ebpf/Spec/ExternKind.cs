namespace BpfSim.Core.Ebpf.Spec;

/// <summary>Where an extern's value comes from (libbpf's enum extern_type).</summary>
public enum ExternKind
{
    /// <summary>A <c>__kconfig</c> variable (the <c>.kconfig</c> DATASEC), e.g. CONFIG_HZ.</summary>
    Kconfig,
    /// <summary>A <c>__ksym</c> kernel function or variable (the <c>.ksyms</c> DATASEC).</summary>
    Ksym,
}
