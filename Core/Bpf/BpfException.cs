namespace BpfSim.Core.Bpf;

/// <summary>A bpf(2) command failed where the caller did not expect it (the typed API throws this).</summary>
public sealed class BpfException : Exception
{
    public BpfException(BpfResult result) : base(result.Reason)
    {
        Result = result;
    }

    public BpfException(Errno errno, BpfCommand command, string cause) : this(BpfResult.Fail(errno, cause).For(command))
    {
    }

    public BpfResult Result { get; }

    public Errno Errno => Result.Errno;
}
