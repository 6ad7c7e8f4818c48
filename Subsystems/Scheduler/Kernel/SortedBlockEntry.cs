namespace BpfSim.Scheduler.Kernel;

/// <summary>
/// One entry of a <see cref="SortedBlockList{TValue}"/>: its key, the subclass's value and the id it stands for,
/// together, so the shifts of an insert or a removal move one struct per entry.
/// </summary>
internal struct SortedBlockEntry<TValue>
    where TValue : unmanaged
{
    public ulong Key;
    public TValue Value;
    public int Id;
}
