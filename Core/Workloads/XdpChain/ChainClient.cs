using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Net;
using BpfSim.Core.Bpf.Programs;

namespace BpfSim.Core.Workloads.XdpChain;

/// <summary>
/// One design's user-space protocol, shared by every component of a run. An action is a C# iterator that yields the
/// kind of its next call and performs that call when resumed, so actors interleave at syscall granularity and each
/// call's effect lands when its latency has passed.
/// </summary>
internal abstract class ChainClient
{
    protected ChainClient(ChainRunContext context)
    {
        Context = context;
        Fds = context.Actors.Select(a => Enumerable.Repeat(-1, a.Spec.Versions.Count).ToArray()).ToArray();
        Ids = context.Actors.Select(a => new uint[a.Spec.Versions.Count]).ToArray();
    }

    protected ChainRunContext Context { get; }
    protected BpfSystem Bpf => Context.Bpf;
    protected NetDevice Device => Context.Device;
    protected uint Ifindex => Context.Device.Ifindex;
    protected XdpChainScenario Scenario => Context.Scenario;

    /// <summary>Per component and version, the fd of its loaded program (-1: not loaded), as <see cref="Load"/> keeps it.</summary>
    protected int[][] Fds { get; }

    /// <summary>Per component and version, the id of the program <see cref="Load"/> loaded.</summary>
    protected uint[][] Ids { get; }

    /// <summary>What exists before any component acts (the chain-call map attached by the system, say).</summary>
    public virtual void Setup()
    {
    }

    /// <summary>The steps of <paramref name="action"/> for <paramref name="actor"/>; sets <see cref="ComponentActor.Failure"/> on giving up.</summary>
    public IEnumerable<SyscallKind> Run(ComponentActor actor, ComponentActionSpec action) => action.Kind switch
    {
        ComponentActionKind.Start => Start(actor, action.Version),
        ComponentActionKind.Replace => Replace(actor, actor.Version, action.Version),
        _ => Stop(actor, actor.Version),
    };

    protected abstract IEnumerable<SyscallKind> Start(ComponentActor actor, int version);
    protected abstract IEnumerable<SyscallKind> Replace(ComponentActor actor, int from, int to);
    protected abstract IEnumerable<SyscallKind> Stop(ComponentActor actor, int version);

    /// <summary>Whether <paramref name="actor"/> may retry once more; counts the retry, or records the give-up.</summary>
    protected bool Retry(ComponentActor actor, BpfResult why)
    {
        if (actor.Retries >= Scenario.MaxRetries + actor.RetriesAtActionStart)
        {
            actor.Failure = $"gave up after {Scenario.MaxRetries} retries: {why.Reason}";
            return false;
        }
        actor.Retries++;
        return true;
    }

    /// <summary>
    /// After a failed call: true to try again, when the error is one the protocol answers by retrying
    /// (<paramref name="retryable"/>) and the retry budget lasts (the retry counted); false when the action ends, with
    /// the error, or the give-up after too many retries, recorded.
    /// </summary>
    protected bool RetryOrFail(ComponentActor actor, BpfResult why, bool retryable)
    {
        if (retryable)
        {
            return Retry(actor, why);
        }
        Fail(actor, why);
        return false;
    }

    /// <summary>Records an error the protocol has no answer to; the action ends.</summary>
    protected static void Fail(ComponentActor actor, BpfResult why) => actor.Failure = why.Reason;

    /// <summary>Loads version <paramref name="version"/> of <paramref name="actor"/>'s program with <paramref name="spec"/> and registers its id.</summary>
    protected BpfResult LoadRegistered(ComponentActor actor, int version, ProgramSpec spec, out int fd)
    {
        var r = Bpf.ProgLoad(spec, out fd);
        if (r.IsOk)
        {
            Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
            Context.Identities.Register(info.Id, actor.Index, version);
        }
        return r;
    }

    /// <summary>
    /// BPF_PROG_LOAD of version <paramref name="version"/> of <paramref name="actor"/>'s program as a
    /// <paramref name="type"/> program running <paramref name="body"/>, unless it is loaded already.
    /// </summary>
    protected IEnumerable<SyscallKind> Load(ComponentActor actor, int version, ProgramType type, PacketProgramFunc body)
    {
        if (Fds[actor.Index][version] >= 0)
        {
            yield break;
        }
        yield return SyscallKind.ProgLoad;
        var r = LoadRegistered(actor, version, new ProgramSpec { Type = type, Name = actor.Spec.ProgramName(version), Body = body }, out int fd);
        if (!r.IsOk)
        {
            Fail(actor, r);
            yield break;
        }
        Fds[actor.Index][version] = fd;
        Ids[actor.Index][version] = IdOf(fd);
    }

    /// <summary>Closes the fd of version <paramref name="version"/> of <paramref name="actor"/>'s program.</summary>
    protected IEnumerable<SyscallKind> Unload(ComponentActor actor, int version)
    {
        yield return SyscallKind.Close;
        Bpf.Close(Fds[actor.Index][version]);
        Fds[actor.Index][version] = -1;
    }

    /// <summary>The id of the program behind <paramref name="fd"/>.</summary>
    protected uint IdOf(int fd)
    {
        Bpf.ObjGetInfoByFd(fd, out BpfProgInfo info).ThrowIfFailed();
        return info.Id;
    }
}
