namespace BpfSim.Scheduler.Fair;

// The tasks_timeline of each cfs_rq (kernel/sched/fair.c: __enqueue_entity, __dequeue_entity, __pick_first_entity,
// pick_eevdf). The kernel keeps an rbtree ordered by deadline whose nodes carry min_vruntime of their subtree; here
// the same augmentation rides on a treap in per-task int arrays (left, right, a fixed pseudo-random priority). The
// order is the kernel's: by deadline (signed difference, so wrap-around is handled), equal deadlines in insertion
// order (rb_add puts an equal key to the right). pick_eevdf's heap search only needs "in-order first eligible node",
// which any search tree with the min_vruntime augmentation answers identically.
public sealed partial class FairSchedClass
{
    private int[] _left = [];
    private int[] _right = [];
    private uint[] _prio = [];
    private ulong[] _seq = [];
    private ulong _insertions;

    /// <summary>entity_before: a's deadline earlier than b's; equal deadlines in the order they were inserted.</summary>
    private bool Before(int a, int b)
    {
        long d = (long)(_tasks[a].Se.Deadline - _tasks[b].Se.Deadline);
        return d < 0 || (d == 0 && _seq[a] < _seq[b]);
    }

    /// <summary>__enqueue_entity: into the tree, and into avg_vruntime.</summary>
    private void EnqueueTimeline(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        AvgVruntimeAdd(cpu, ref se);
        se.MinVruntime = se.Vruntime;
        _left[id] = _right[id] = -1;
        _seq[id] = ++_insertions;
        _prio[id] = Mix(_seq[id]);
        _root[cpu] = Insert(_root[cpu], id);
    }

    /// <summary>__dequeue_entity: out of the tree, and out of avg_vruntime.</summary>
    private void DequeueTimeline(int cpu, int id)
    {
        _root[cpu] = Erase(_root[cpu], id);
        _left[id] = _right[id] = -1;
        AvgVruntimeSub(cpu, ref _tasks[id].Se);
    }

    /// <summary>__pick_first_entity: the leftmost (earliest deadline) entity, or −1.</summary>
    private int FirstEntity(int cpu)
    {
        int n = _root[cpu];
        if (n < 0)
        {
            return -1;
        }
        while (_left[n] >= 0)
        {
            n = _left[n];
        }
        return n;
    }

    /// <summary>
    /// pick_eevdf: the eligible entity with the earliest virtual deadline, curr included (curr is not in the tree);
    /// RUN_TO_PARITY keeps an eligible curr while its slice is protected.
    /// </summary>
    public int PickEevdf(int cpu)
    {
        int curr = _curr[cpu];
        int first = FirstEntity(cpu);
        if (_nrRunning[cpu] == 1)
        {
            return curr >= 0 && _tasks[curr].Se.OnRq != 0 ? curr : first;
        }
        if (curr >= 0 && (_tasks[curr].Se.OnRq == 0 || !EntityEligible(cpu, curr)))
        {
            curr = -1;
        }
        if (Features.RunToParity && curr >= 0 && ProtectSlice(ref _tasks[curr].Se))
        {
            return curr;
        }
        int best = -1;
        if (first >= 0 && EntityEligible(cpu, first))
        {
            best = first;
        }
        else
        {
            int node = _root[cpu];
            while (node >= 0)
            {
                int left = _left[node];
                // Eligible entities of the left subtree have earlier deadlines.
                if (left >= 0 && VruntimeEligible(cpu, _tasks[left].Se.MinVruntime))
                {
                    node = left;
                    continue;
                }
                if (EntityEligible(cpu, node))
                {
                    best = node;
                    break;
                }
                node = _right[node];
            }
        }
        if (best < 0 || (curr >= 0 && DeadlineBefore(curr, best)))
        {
            best = curr;
        }
        return best;
    }

    /// <summary>entity_before for curr against a tree node: strictly earlier deadline.</summary>
    private bool DeadlineBefore(int a, int b) => (long)(_tasks[a].Se.Deadline - _tasks[b].Se.Deadline) < 0;

    /// <summary>min_vruntime_update: the subtree minimum of vruntime (signed comparison, as vruntime_gt).</summary>
    private void Update(int n)
    {
        ref var se = ref _tasks[n].Se;
        ulong min = se.Vruntime;
        int l = _left[n];
        if (l >= 0)
        {
            ulong lm = _tasks[l].Se.MinVruntime;
            if ((long)(min - lm) > 0)
            {
                min = lm;
            }
        }
        int r = _right[n];
        if (r >= 0)
        {
            ulong rm = _tasks[r].Se.MinVruntime;
            if ((long)(min - rm) > 0)
            {
                min = rm;
            }
        }
        se.MinVruntime = min;
    }

    private int Insert(int t, int x)
    {
        if (t < 0)
        {
            return x;
        }
        if (_prio[x] > _prio[t])
        {
            Split(t, x, out int l, out int r);
            _left[x] = l;
            _right[x] = r;
            Update(x);
            return x;
        }
        if (Before(x, t))
        {
            _left[t] = Insert(_left[t], x);
        }
        else
        {
            _right[t] = Insert(_right[t], x);
        }
        Update(t);
        return t;
    }

    /// <summary>Splits <paramref name="t"/> into the nodes before <paramref name="x"/> and those after it.</summary>
    private void Split(int t, int x, out int l, out int r)
    {
        if (t < 0)
        {
            l = r = -1;
            return;
        }
        if (Before(t, x))
        {
            Split(_right[t], x, out int a, out r);
            _right[t] = a;
            Update(t);
            l = t;
        }
        else
        {
            Split(_left[t], x, out l, out int b);
            _left[t] = b;
            Update(t);
            r = t;
        }
    }

    private int Merge(int a, int b)
    {
        if (a < 0)
        {
            return b;
        }
        if (b < 0)
        {
            return a;
        }
        if (_prio[a] > _prio[b])
        {
            _right[a] = Merge(_right[a], b);
            Update(a);
            return a;
        }
        _left[b] = Merge(a, _left[b]);
        Update(b);
        return b;
    }

    private int Erase(int t, int x)
    {
        if (t < 0)
        {
            throw new InvalidOperationException($"fair: task {x} is not in the timeline it is being removed from");
        }
        if (t == x)
        {
            return Merge(_left[t], _right[t]);
        }
        if (Before(x, t))
        {
            _left[t] = Erase(_left[t], x);
        }
        else
        {
            _right[t] = Erase(_right[t], x);
        }
        Update(t);
        return t;
    }

    /// <summary>A fixed priority per insertion (splitmix64 finaliser): deterministic, balanced in expectation.</summary>
    private static uint Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (uint)((x ^ (x >> 31)) >> 16);
    }

    /// <summary>
    /// The order in which <paramref name="taskId"/> last entered a timeline (larger = later): among equal deadlines the
    /// earlier one is picked, as rb_add's equal-key-to-the-right order has it.
    /// </summary>
    public ulong InsertionOrder(int taskId) => _seq[taskId];
}
