namespace BpfSim.Core.Bpf;

/// <summary>
/// The outcome of a bpf(2) command: <see cref="Errno.None"/> or the kernel's errno, the command, and a constant
/// cause. Building a result allocates nothing; the message is formatted only when <see cref="Reason"/> is read.
/// </summary>
public readonly struct BpfResult
{
    private BpfResult(Errno errno, BpfCommand? command, string? cause)
    {
        Errno = errno;
        Command = command;
        Cause = cause;
    }

    /// <summary>Success.</summary>
    public static BpfResult Ok => default;

    /// <summary>A failure with <paramref name="errno"/> because of <paramref name="cause"/>.</summary>
    public static BpfResult Fail(Errno errno, string cause) => new(errno, null, cause);

    public Errno Errno { get; }

    /// <summary>The command the result is attributed to; null until <see cref="For"/> names one.</summary>
    public BpfCommand? Command { get; }

    /// <summary>Why the command failed, without the command name; null on success.</summary>
    public string? Cause { get; }

    public bool IsOk => Errno == Errno.None;

    /// <summary>The same result attributed to <paramref name="command"/>.</summary>
    public BpfResult For(BpfCommand command) => new(Errno, command, Cause);

    /// <summary>"BPF_MAP_UPDATE_ELEM: EEXIST (17): key already exists and flags is BPF_NOEXIST".</summary>
    public string Reason => (Command is { } c ? c.Name() + ": " : "") + (IsOk ? "ok" : $"{Errno} ({(int)Errno}): {Cause}");

    /// <summary>Throws <see cref="BpfException"/> unless the command succeeded.</summary>
    public void ThrowIfFailed()
    {
        if (!IsOk)
        {
            throw new BpfException(this);
        }
    }

    public override string ToString() => Reason;

    public static implicit operator bool(BpfResult r) => r.IsOk;
}
