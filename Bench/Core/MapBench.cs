using BenchmarkDotNet.Attributes;
using BpfSim.Core.Bpf;
using BpfSim.Core.Bpf.Maps;

namespace BpfSim.Bench.Core;

/// <summary>
/// Hash map with 8-byte keys (10,000 present of 16,384) and a per-CPU array: the program-side helpers that run on
/// the hot path, and the syscall path with its fd resolution and checks. One operation = one call.
/// </summary>
[MemoryDiagnoser]
public class MapBench
{
    private const int Keys = 10_000;
    private const int Batch = 1024;
    private BpfSystem _bpf = null!;
    private BpfMap _hash = null!;
    private BpfMap _percpu = null!;
    private int _hashFd;
    private byte[][] _keys = null!;
    private readonly byte[] _value = new byte[8];
    private readonly byte[] _index = new byte[4];
    private ProgramScope _scope;

    [GlobalSetup]
    public void Setup()
    {
        _bpf = new BpfSystem(new BpfSystemOptions { Cpus = 4 });
        _bpf.MapCreate(new MapSpec { Type = MapType.Hash, KeySize = 8, ValueSize = 8, MaxEntries = 16_384 }, out _hashFd).ThrowIfFailed();
        _bpf.MapCreate(new MapSpec { Type = MapType.PercpuArray, KeySize = 4, ValueSize = 8, MaxEntries = 256 }, out int pcpu).ThrowIfFailed();
        _bpf.GetMap(_hashFd, out _hash).ThrowIfFailed();
        _bpf.GetMap(pcpu, out _percpu).ThrowIfFailed();
        _keys = new byte[Batch][];
        for (int i = 0; i < Keys; i++)
        {
            var key = BitConverter.GetBytes((ulong)i * 2654435761UL);
            _bpf.MapUpdateElem(_hashFd, key, BitConverter.GetBytes((ulong)i)).ThrowIfFailed();
            if (i < Batch)
            {
                _keys[i] = key;
            }
        }
        _scope = _bpf.EnterProgram(1);
    }

    [GlobalCleanup]
    public void Cleanup() => _scope.Dispose();

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HashLookup_Program()
    {
        int found = 0;
        var keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            found += _hash.Lookup(keys[i]).Length;
        }
        return found;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HashUpdate_Program()
    {
        int errors = 0;
        var keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            errors += (int)_hash.Update(keys[i], _value, UpdateFlags.Exist);
        }
        return errors;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HashLookup_Syscall()
    {
        int errors = 0;
        var keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            errors += (int)_bpf.MapLookupElem(_hashFd, keys[i], _value).Errno;
        }
        return errors;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public int HashUpdate_Syscall()
    {
        int errors = 0;
        var keys = _keys;
        for (int i = 0; i < keys.Length; i++)
        {
            errors += (int)_bpf.MapUpdateElem(_hashFd, keys[i], _value).Errno;
        }
        return errors;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long PercpuArrayLookup_Program()
    {
        long sum = 0;
        var index = _index;
        for (int i = 0; i < Batch; i++)
        {
            index[0] = (byte)i;
            sum += _percpu.Lookup(index)[0];
        }
        return sum;
    }
}
