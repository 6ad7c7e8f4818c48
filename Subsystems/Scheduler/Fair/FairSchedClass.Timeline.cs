using System.Runtime.InteropServices;

namespace BpfSim.Scheduler.Fair;

// The tasks_timeline of each cfs_rq (kernel/sched/fair.c: __enqueue_entity, __dequeue_entity, __pick_first_entity,
// pick_eevdf). The kernel keeps an rbtree ordered by deadline whose nodes carry min_vruntime of their subtree; here
// the same augmentation rides on a treap in per-task int arrays (left, right, a fixed pseudo-random priority). The
// order is the kernel's: by deadline (signed difference, so wrap-around is handled), equal deadlines in insertion
// order (rb_add puts an equal key to the right). pick_eevdf's heap search only needs "in-order first eligible node",
// which any search tree with the min_vruntime augmentation answers identically.
// A node keeps what the tree reads (children, priority, order, and copies of the entity's deadline and vruntime, which
// do not change while it is in the tree: update_curr, place_entity and reweight touch entities outside it) in one
// 48-byte record, so a step down the tree is one cache line instead of five arrays and the task's own lines.
public sealed partial class FairSchedClass
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Node
    {
        public ulong Deadline;
        public ulong Vruntime;
        public ulong MinVruntime;
        public ulong Seq;
        public int Left;
        public int Right;
        public uint Prio;
    }

    private Node[] _node = [];
    private ulong _insertions;

    // rb_root_cached's rb_leftmost: the first entity of each CPU's timeline, −1 if empty. pick_eevdf reads it at every
    // pick and wake-up preemption check; keeping it saves a walk down the left spine (a cache miss per level) each time.
    private readonly int[] _leftmost;

    /// <summary>entity_before: a's deadline earlier than b's; equal deadlines in the order they were inserted.</summary>
    private bool Before(int a, int b)
    {
        ref var na = ref _node[a];
        ref var nb = ref _node[b];
        long d = (long)(na.Deadline - nb.Deadline);
        return d < 0 || (d == 0 && na.Seq < nb.Seq);
    }

    /// <summary>__enqueue_entity: into the tree, and into avg_vruntime.</summary>
    private void EnqueueTimeline(int cpu, int id)
    {
        ref var se = ref _tasks[id].Se;
        AvgVruntimeAdd(cpu, ref se);
        se.MinVruntime = se.Vruntime;
        ref var n = ref _node[id];
        n.Deadline = se.Deadline;
        n.Vruntime = se.Vruntime;
        n.MinVruntime = se.Vruntime;
        n.Left = n.Right = -1;
        n.Seq = ++_insertions;
        n.Prio = Mix(n.Seq);
        _root[cpu] = Insert(_root[cpu], id);
        int first = _leftmost[cpu];
        if (first < 0 || Before(id, first))
        {
            _leftmost[cpu] = id;
        }
    }

    /// <summary>__dequeue_entity: out of the tree, and out of avg_vruntime.</summary>
    private void DequeueTimeline(int cpu, int id)
    {
        // The leftmost's successor: the first of its right subtree (which the erase leaves as it is), else its parent,
        // which is the new first of the tree.
        int right = _leftmost[cpu] == id ? _node[id].Right : -1;
        _root[cpu] = Erase(_root[cpu], id);
        _node[id].Left = _node[id].Right = -1;
        if (_leftmost[cpu] == id)
        {
            _leftmost[cpu] = right >= 0 ? LeftmostOf(right) : LeftmostOf(_root[cpu]);
        }
        AvgVruntimeSub(cpu, ref _tasks[id].Se);
    }

    /// <summary>__pick_first_entity: the leftmost (earliest deadline) entity, or −1.</summary>
    private int FirstEntity(int cpu) => _leftmost[cpu];

    /// <summary>The first node of the subtree at <paramref name="n"/>, or −1.</summary>
    private int LeftmostOf(int n)
    {
        if (n < 0)
        {
            return -1;
        }
        while (_node[n].Left >= 0)
        {
            n = _node[n].Left;
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
        // vruntime_eligible's sums (curr folded in) once for the whole search: nothing changes them during it.
        EligibilitySums(cpu, out long avg, out long load);
        ulong zero = _zeroVruntime[cpu];
        if (first >= 0 && Eligible(_node[first].Vruntime, avg, load, zero))
        {
            best = first;
        }
        else
        {
            var nodes = _node;
            int node = _root[cpu];
            while (node >= 0)
            {
                ref var n = ref nodes[node];
                int left = n.Left;
                // Eligible entities of the left subtree have earlier deadlines.
                if (left >= 0 && Eligible(nodes[left].MinVruntime, avg, load, zero))
                {
                    node = left;
                    continue;
                }
                if (Eligible(n.Vruntime, avg, load, zero))
                {
                    best = node;
                    break;
                }
                node = n.Right;
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

    /// <summary>vruntime_eligible for one vruntime, with <see cref="EligibilitySums"/>' sums.</summary>
    private static bool Eligible(ulong vruntime, long avg, long load, ulong zero) => avg >= (long)(vruntime - zero) * load;

    /// <summary>min_vruntime_update: the subtree minimum of vruntime (signed comparison, as vruntime_gt).</summary>
    private void Update(int id)
    {
        var nodes = _node;
        ref var n = ref nodes[id];
        ulong min = n.Vruntime;
        int l = n.Left;
        if (l >= 0)
        {
            ulong lm = nodes[l].MinVruntime;
            if ((long)(min - lm) > 0)
            {
                min = lm;
            }
        }
        int r = n.Right;
        if (r >= 0)
        {
            ulong rm = nodes[r].MinVruntime;
            if ((long)(min - rm) > 0)
            {
                min = rm;
            }
        }
        if (min != n.MinVruntime)
        {
            n.MinVruntime = min;
            _tasks[id].Se.MinVruntime = min; // se->min_vruntime, readable through BTF; the same value, stored only when it changes
        }
    }

    private int Insert(int t, int x)
    {
        if (t < 0)
        {
            return x;
        }
        if (_node[x].Prio > _node[t].Prio)
        {
            Split(t, x, out int l, out int r);
            _node[x].Left = l;
            _node[x].Right = r;
            Update(x);
            return x;
        }
        if (Before(x, t))
        {
            _node[t].Left = Insert(_node[t].Left, x);
        }
        else
        {
            _node[t].Right = Insert(_node[t].Right, x);
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
            Split(_node[t].Right, x, out int a, out r);
            _node[t].Right = a;
            Update(t);
            l = t;
        }
        else
        {
            Split(_node[t].Left, x, out l, out int b);
            _node[t].Left = b;
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
        if (_node[a].Prio > _node[b].Prio)
        {
            _node[a].Right = Merge(_node[a].Right, b);
            Update(a);
            return a;
        }
        _node[b].Left = Merge(a, _node[b].Left);
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
            return Merge(_node[t].Left, _node[t].Right);
        }
        if (Before(x, t))
        {
            _node[t].Left = Erase(_node[t].Left, x);
        }
        else
        {
            _node[t].Right = Erase(_node[t].Right, x);
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
    public ulong InsertionOrder(int taskId) => _node[taskId].Seq;
}
