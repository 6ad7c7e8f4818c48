using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace BpfSim.Studies.Traces;

/// <summary>
/// One trace file's pending bytes: an <see cref="IBufferWriter{T}"/> over an array rented from the shared pool, that a
/// <c>MessagePackWriter</c> or a <see cref="TraceEncoder"/> writes records into and that goes to the file in batches (<see cref="BeginRecord"/>
/// flushes when a record might not fit). The buffer starts small and doubles up to <see cref="MaxBuffer"/>, so a
/// short flow holds little; at its full size a flush writes it with one positioned write and nothing is allocated.
/// </summary>
internal sealed class TraceFile : IBufferWriter<byte>, IDisposable
{
    /// <summary>No record is longer than this (the longest, a ca record, is 17 elements of at most 9 bytes, plus a name).</summary>
    public const int MaxRecordBytes = 256;

    private const int InitialBuffer = 4 << 10;

    private readonly int _initialBuffer;

    private readonly string _path;
    private readonly int _maxBuffer;
    private byte[]? _buffer;
    private int _written;
    private long _offset;
    private bool _created;
    private SafeFileHandle? _handle;

    /// <param name="initialBuffer">The buffer's first size (4 KiB unless given); it doubles up to <paramref name="maxBuffer"/>.</param>
    public TraceFile(string path, int maxBuffer = MaxBuffer, int initialBuffer = InitialBuffer)
    {
        _path = path;
        _maxBuffer = maxBuffer;
        _initialBuffer = Math.Min(initialBuffer, maxBuffer);
    }

    /// <summary>The most a file buffers before it writes (64 KiB).</summary>
    public const int MaxBuffer = 64 << 10;

    public string Path => _path;

    /// <summary>Bytes handed to the file so far (written or pending).</summary>
    public long Length => _offset + _written;

    /// <summary>Makes room for one record: grows the buffer, or writes it out when it is at its full size.</summary>
    public void BeginRecord()
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(_initialBuffer);
        }
        if (_buffer.Length - _written >= MaxRecordBytes)
        {
            return;
        }
        if (_buffer.Length < _maxBuffer)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _written).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
            return;
        }
        Flush();
    }

    /// <summary><see cref="BeginRecord"/>, then the room for it: encode there and <see cref="Advance"/> by what was written.</summary>
    public Span<byte> BeginRecordSpan()
    {
        BeginRecord();
        return _buffer.AsSpan(_written, MaxRecordBytes);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Reserve(int sizeHint)
    {
        if (_buffer is null || _buffer.Length - _written < Math.Max(sizeHint, 1))
        {
            if (_buffer is not null && _written > 0)
            {
                Flush();
            }
            if (_buffer is null || _buffer.Length < sizeHint)
            {
                if (_buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }
                _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, InitialBuffer));
            }
        }
    }

    /// <summary>Writes what is pending to the file (creating it on the first write).</summary>
    public void Flush()
    {
        if (_created && _written == 0)
        {
            return;
        }
        _handle ??= File.OpenHandle(_path, _created ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.Read);
        _created = true;
        if (_written > 0)
        {
            RandomAccess.Write(_handle, _buffer.AsSpan(0, _written), _offset);
            _offset += _written;
            _written = 0;
        }
    }

    /// <summary>Writes what is pending, closes the file and returns the buffer; a later record opens it again.</summary>
    public void Dispose()
    {
        Flush();
        _handle?.Dispose();
        _handle = null;
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
