using BpfSim.Scheduler.Tasks;

namespace BpfSim.Scheduler.Ext;

/// <summary>
/// Every dispatch queue of the ext class (struct scx_dispatch_q, kernel/sched/ext.c 6.12): one global DSQ per NUMA
/// node, one local DSQ per CPU, one deferred-local list per CPU (rq->scx.ddsp_deferred_locals), and the user DSQs
/// scx_bpf_create_dsq made. Tasks are linked through int arrays indexed by task id (a task is on at most one queue,
/// as p->scx.dsq_list.node allows), so an insert or removal allocates nothing; the arrays grow only when tasks are
/// forked.
/// </summary>
/// <remarks>
/// A PRIQ (vtime) DSQ keeps its list in vtime order, as the kernel's list mirrors its rbtree: a new PRIQ task goes
/// after the last PRIQ task whose vtime is not after its own (rb_add puts equal keys after). That task is found in a
/// sorted block list of the DSQ's PRIQ tasks (DsqPriq, DsqTable.Priq.cs), as the kernel finds it in dsq->priq,
/// without walking the list: a scheduler like scx_simple puts a waking task near the head, so a walk of the list cost
/// O(tasks queued) per enqueue. time_before64 compares as a signed difference, so vtimes may wrap.
/// </remarks>
public sealed partial class DsqTable
{
    private const int None = -1;

    private ulong[] _id;
    private int[] _head;
    private int[] _tail;
    private int[] _nr;
    private int[] _priqNr;
    private uint[] _seq;
    private bool[] _live;
    private int _count;
    private readonly Dictionary<ulong, int> _user = [];
    private readonly List<int> _userOrder = [];
    private readonly Stack<int> _free = new();

    private int[] _next;
    private int[] _prev;
    private int[] _on;

    public DsqTable(int nodes, int cpus, int taskCapacity = 64)
    {
        Nodes = nodes;
        Cpus = cpus;
        int builtin = nodes + 2 * cpus;
        int cap = builtin + 8;
        _id = new ulong[cap];
        _head = new int[cap];
        _tail = new int[cap];
        _nr = new int[cap];
        _priqNr = new int[cap];
        _seq = new uint[cap];
        _live = new bool[cap];
        for (int i = 0; i < builtin; i++)
        {
            _id[i] = i < nodes ? ScxConsts.DsqGlobal : i < nodes + cpus ? ScxConsts.DsqLocal : ScxConsts.DsqInvalid;
            _head[i] = _tail[i] = None;
            _live[i] = true;
        }
        _count = builtin;
        _next = new int[Math.Max(taskCapacity, 1)];
        _prev = new int[_next.Length];
        _on = new int[_next.Length];
        _on.AsSpan().Fill(None);
        GrowPriqDsqs(cap);
        GrowPriq(_next.Length);
    }

    public int Nodes { get; }

    public int Cpus { get; }

    /// <summary>The index of node <paramref name="node"/>'s global DSQ.</summary>
    public int Global(int node) => node;

    /// <summary>The index of <paramref name="cpu"/>'s local DSQ.</summary>
    public int Local(int cpu) => Nodes + cpu;

    /// <summary>The index of <paramref name="cpu"/>'s deferred direct dispatches to remote local DSQs.</summary>
    public int Deferred(int cpu) => Nodes + Cpus + cpu;

    /// <summary>Whether <paramref name="dsq"/> is some CPU's local DSQ.</summary>
    public bool IsLocal(int dsq) => dsq >= Nodes && dsq < Nodes + Cpus;

    /// <summary>The CPU whose local DSQ <paramref name="dsq"/> is.</summary>
    public int CpuOfLocal(int dsq) => dsq - Nodes;

    public bool IsDeferred(int dsq) => dsq >= Nodes + Cpus && dsq < Nodes + 2 * Cpus;

    /// <summary>dsq->id (SCX_DSQ_INVALID once a user DSQ is destroyed).</summary>
    public ulong Id(int dsq) => _id[dsq];

    /// <summary>dsq->nr.</summary>
    public int Nr(int dsq) => _nr[dsq];

    /// <summary>Whether any task is on the DSQ's priority queue (!RB_EMPTY_ROOT(&amp;dsq->priq)).</summary>
    public bool HasPriq(int dsq) => _priqNr[dsq] > 0;

    /// <summary>The first task, or −1.</summary>
    public int First(int dsq) => _head[dsq];

    /// <summary>The task after <paramref name="task"/> on its DSQ, or −1.</summary>
    public int Next(int task) => _next[task];

    /// <summary>The DSQ (index) <paramref name="task"/> is on, or −1 (p->scx.dsq).</summary>
    public int DsqOf(int task) => task < _on.Length ? _on[task] : None;

    /// <summary>Makes room for task ids below <paramref name="count"/> (allocates only when tasks were forked).</summary>
    public void EnsureTasks(int count)
    {
        if (count <= _next.Length)
        {
            return;
        }
        int n = Math.Max(count, _next.Length * 2);
        int old = _on.Length;
        Array.Resize(ref _next, n);
        Array.Resize(ref _prev, n);
        Array.Resize(ref _on, n);
        _on.AsSpan(old).Fill(None);
        GrowPriq(n);
    }

    /// <summary>find_user_dsq: the live user DSQ with <paramref name="id"/>, or −1.</summary>
    public int FindUser(ulong id) => _user.TryGetValue(id, out int i) ? i : None;

    /// <summary>User DSQs in creation order (for disable, which destroys them all).</summary>
    public IReadOnlyList<int> UserDsqs => _userOrder;

    /// <summary>create_dsq: a new user DSQ; EINVAL for a built-in id, EEXIST for an id in use (rhashtable_lookup_insert_fast).</summary>
    public int CreateUser(ulong id, out int index)
    {
        index = None;
        if ((id & ScxConsts.DsqFlagBuiltin) != 0)
        {
            return -22;
        }
        if (_user.ContainsKey(id))
        {
            return -17;
        }
        if (!_free.TryPop(out index))
        {
            if (_count == _id.Length)
            {
                int n = _count * 2;
                Array.Resize(ref _id, n);
                Array.Resize(ref _head, n);
                Array.Resize(ref _tail, n);
                Array.Resize(ref _nr, n);
                Array.Resize(ref _priqNr, n);
                Array.Resize(ref _seq, n);
                Array.Resize(ref _live, n);
                GrowPriqDsqs(n);
            }
            index = _count++;
        }
        _id[index] = id;
        _head[index] = _tail[index] = None;
        _nr[index] = _priqNr[index] = 0; // a destroyed DSQ was empty: its vtime queue (if any) is too
        _seq[index] = 0;
        _live[index] = true;
        _user[id] = index;
        _userOrder.Add(index);
        return 0;
    }

    /// <summary>
    /// The removal half of destroy_dsq: the id leaves the table and the DSQ is marked dead (id SCX_DSQ_INVALID); the
    /// slot is reused by a later create. The caller has checked that it is empty.
    /// </summary>
    public void RemoveUser(int dsq)
    {
        _user.Remove(_id[dsq]);
        _userOrder.Remove(dsq);
        _id[dsq] = ScxConsts.DsqInvalid;
        _live[dsq] = false;
        _free.Push(dsq);
    }

    /// <summary>Links <paramref name="task"/> at the head or tail (FIFO insert, list_add / list_add_tail).</summary>
    public void InsertFifo(int dsq, int task, bool head)
    {
        if (head)
        {
            LinkAfter(dsq, task, None);
        }
        else
        {
            LinkAfter(dsq, task, _tail[dsq]);
        }
    }

    /// <summary>Links <paramref name="task"/> in vtime order (the PRIQ insert); <paramref name="vtimes"/> reads a task's dsq_vtime.</summary>
    public void InsertPriq(int dsq, int task, TaskTable vtimes)
    {
        ulong vtime = vtimes[task].Scx.DsqVtime;
        // The last PRIQ task not after us (!time_before64(vtime, t.vtime)); none: the rbtree's first, linked at the
        // list head (list_add(&node, &dsq->list)).
        int after = PriqAdd(dsq, task, vtime);
        LinkAfter(dsq, task, after);
        _priqNr[dsq]++;
        vtimes[task].Scx.DsqFlags |= ScxTaskFlags.DsqOnPriq;
    }

    private void LinkAfter(int dsq, int task, int after)
    {
        int next = after == None ? _head[dsq] : _next[after];
        _prev[task] = after;
        _next[task] = next;
        if (after == None)
        {
            _head[dsq] = task;
        }
        else
        {
            _next[after] = task;
        }
        if (next == None)
        {
            _tail[dsq] = task;
        }
        else
        {
            _prev[next] = task;
        }
        _on[task] = dsq;
        _nr[dsq]++;
        _seq[dsq]++;
    }

    /// <summary>dsq->seq after the last insert (p->scx.dsq_seq).</summary>
    public uint Seq(int dsq) => _seq[dsq];

    /// <summary>task_unlink_from_dsq: takes <paramref name="task"/> off its DSQ (clearing its PRIQ flag).</summary>
    public void Unlink(int task, ref TaskStruct p)
    {
        int dsq = _on[task];
        if (dsq == None)
        {
            return;
        }
        int prev = _prev[task], next = _next[task];
        if (prev == None)
        {
            _head[dsq] = next;
        }
        else
        {
            _next[prev] = next;
        }
        if (next == None)
        {
            _tail[dsq] = prev;
        }
        else
        {
            _prev[next] = prev;
        }
        _on[task] = None;
        _next[task] = _prev[task] = None;
        _nr[dsq]--;
        if ((p.Scx.DsqFlags & ScxTaskFlags.DsqOnPriq) != 0)
        {
            PriqRemove(dsq, task);
            p.Scx.DsqFlags &= ~ScxTaskFlags.DsqOnPriq;
            _priqNr[dsq]--;
        }
    }
}
