namespace BpfSim.Scheduler.Ext;

// dsq->priq (kernel/sched/ext.c 6.12: dispatch_enqueue's rb_add with scx_dsq_priq_less, and the list insert after
// rb_prev): the PRIQ tasks of each DSQ in a treap over int arrays indexed by task id, keyed by (vtime, insertion
// order) so that equal vtimes keep arrival order as rb_add puts an equal key after. The key is the dsq_vtime the task
// was inserted with (scx_bpf_dsq_insert_vtime sets it); the tree only finds where the list insert goes, the list
// stays the queue.
public sealed partial class DsqTable
{
    private int[] _priqRoot = [];
    private int[] _pLeft = [];
    private int[] _pRight = [];
    private uint[] _pPrio = [];
    private ulong[] _pKey = [];
    private ulong[] _pOrder = [];
    private ulong _priqInsertions;

    private void GrowPriq(int n)
    {
        int old = _pLeft.Length;
        if (n <= old)
        {
            return;
        }
        Array.Resize(ref _pLeft, n);
        Array.Resize(ref _pRight, n);
        Array.Resize(ref _pPrio, n);
        Array.Resize(ref _pKey, n);
        Array.Resize(ref _pOrder, n);
        _pLeft.AsSpan(old).Fill(None);
        _pRight.AsSpan(old).Fill(None);
    }

    /// <summary>The last PRIQ task of <paramref name="dsq"/> whose vtime is not after <paramref name="vtime"/>, or −1.</summary>
    private int PriqPredecessor(int dsq, ulong vtime)
    {
        int pred = None;
        int n = _priqRoot[dsq];
        while (n != None)
        {
            if ((long)(vtime - _pKey[n]) >= 0)
            {
                pred = n;
                n = _pRight[n];
            }
            else
            {
                n = _pLeft[n];
            }
        }
        return pred;
    }

    /// <summary>(key a, order a) before (key b, order b).</summary>
    private bool PriqBefore(int a, int b)
    {
        long d = (long)(_pKey[a] - _pKey[b]);
        return d < 0 || (d == 0 && _pOrder[a] < _pOrder[b]);
    }

    private void PriqAdd(int dsq, int task, ulong vtime)
    {
        _pKey[task] = vtime;
        _pOrder[task] = ++_priqInsertions;
        _pPrio[task] = Mix(_priqInsertions);
        _pLeft[task] = _pRight[task] = None;
        _priqRoot[dsq] = PriqInsert(_priqRoot[dsq], task);
    }

    private void PriqRemove(int dsq, int task)
    {
        _priqRoot[dsq] = PriqErase(_priqRoot[dsq], task);
        _pLeft[task] = _pRight[task] = None;
    }

    private int PriqInsert(int t, int x)
    {
        if (t == None)
        {
            return x;
        }
        if (_pPrio[x] > _pPrio[t])
        {
            PriqSplit(t, x, out int l, out int r);
            _pLeft[x] = l;
            _pRight[x] = r;
            return x;
        }
        if (PriqBefore(x, t))
        {
            _pLeft[t] = PriqInsert(_pLeft[t], x);
        }
        else
        {
            _pRight[t] = PriqInsert(_pRight[t], x);
        }
        return t;
    }

    private void PriqSplit(int t, int x, out int l, out int r)
    {
        if (t == None)
        {
            l = r = None;
            return;
        }
        if (PriqBefore(t, x))
        {
            PriqSplit(_pRight[t], x, out int a, out r);
            _pRight[t] = a;
            l = t;
        }
        else
        {
            PriqSplit(_pLeft[t], x, out l, out int b);
            _pLeft[t] = b;
            r = t;
        }
    }

    private int PriqMerge(int a, int b)
    {
        if (a == None)
        {
            return b;
        }
        if (b == None)
        {
            return a;
        }
        if (_pPrio[a] > _pPrio[b])
        {
            _pRight[a] = PriqMerge(_pRight[a], b);
            return a;
        }
        _pLeft[b] = PriqMerge(a, _pLeft[b]);
        return b;
    }

    private int PriqErase(int t, int x)
    {
        if (t == None)
        {
            throw new InvalidOperationException($"sched_ext: task {x} is not in the vtime queue it is being removed from");
        }
        if (t == x)
        {
            return PriqMerge(_pLeft[t], _pRight[t]);
        }
        if (PriqBefore(x, t))
        {
            _pLeft[t] = PriqErase(_pLeft[t], x);
        }
        else
        {
            _pRight[t] = PriqErase(_pRight[t], x);
        }
        return t;
    }

    /// <summary>A fixed pseudo-random priority per insertion (splitmix64 finaliser): balanced in expectation, deterministic.</summary>
    private static uint Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (uint)((x ^ (x >> 31)) >> 16);
    }
}
