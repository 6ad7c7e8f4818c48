namespace BpfSim.Tests.Ebpf;

/// <summary>
/// Damages BPF objects for the fuzz tests, deterministically from a seeded <see cref="Random"/>: bit flips anywhere,
/// truncations, byte and boundary-value changes aimed at the ELF header, the section header table, .BTF, .BTF.ext,
/// the symbol table, maps, struct_ops data and relocations, and — when asked — changes to the instructions of the
/// program sections (opcodes, registers, offsets, immediates) that the loader's checks must catch.
/// </summary>
internal sealed class ObjectMutator
{
    private static readonly string[] s_aimedAt =
        [".BTF", ".BTF.ext", ".relstruct_ops", ".rel.struct_ops", ".rel.struct_ops.link", ".symtab", ".maps", ".struct_ops"];

    // Opcodes worth trying: every class with common modes and operations, plus a few the checks must refuse
    // (LD_ABS, a 64-bit MEMSX load, JMP32 CALL, an ALU op past END).
    private static readonly byte[] s_opcodes =
    [
        0x07, 0x0f, 0x17, 0x1f, 0x27, 0x37, 0x47, 0x4f, 0x57, 0x67, 0x77, 0x87, 0x97, 0xa7, 0xb7, 0xbf, 0xc7, 0xd4, 0xdc,
        0x04, 0x0c, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x84, 0x94, 0xa4, 0xb4, 0xbc, 0xc4,
        0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x99, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb,
        0x05, 0x06, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45, 0x55, 0x5d, 0x65, 0x75, 0xa5, 0xb5, 0xc5, 0xd5, 0x16, 0x1e, 0x56,
        0x85, 0x95, 0x18, 0x00, 0x20, 0x30, 0x99, 0x86, 0xf7, 0xff,
    ];

    private readonly byte[] _original;
    private readonly (int Offset, int Size)[] _regions;
    private readonly (int Offset, int Size)[] _code;

    public ObjectMutator(string name, byte[] original)
    {
        Name = name;
        _original = original;
        _regions = Regions(original);
        _code = CodeSections(original);
    }

    public string Name { get; }

    /// <summary>A damaged copy: ELF and BTF damage only, or (with <paramref name="instructions"/>) mostly damaged instructions.</summary>
    public byte[] Mutate(Random random, bool instructions)
    {
        var bytes = (byte[])_original.Clone();
        int choice = random.Next(instructions && _code.Length > 0 ? 10 : 6);
        switch (choice)
        {
            case 0:
                // Random bit flips anywhere.
                for (int k = random.Next(1, 9); k > 0; k--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }
                return bytes;
            case 1:
                // Truncation.
                return bytes[..random.Next(bytes.Length)];
            case < 6:
            {
                // Byte changes inside one aimed-at region: random bytes, or boundary values in a 32-bit word.
                var (offset, size) = _regions[random.Next(_regions.Length)];
                for (int k = random.Next(1, 5); k > 0; k--)
                {
                    int at = offset + random.Next(size);
                    if (random.Next(2) == 0 && at + 4 <= bytes.Length)
                    {
                        uint[] values = [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, (uint)random.Next()];
                        BitConverter.TryWriteBytes(bytes.AsSpan(at, 4), values[random.Next(values.Length)]);
                    }
                    else
                    {
                        bytes[at] = (byte)random.Next(256);
                    }
                }
                return bytes;
            }
            default:
                MutateInstructions(bytes, random);
                return bytes;
        }
    }

    /// <summary>Changes one to four instructions of one program section, one field each.</summary>
    private void MutateInstructions(byte[] bytes, Random random)
    {
        var (offset, size) = _code[random.Next(_code.Length)];
        int count = size / 8;
        for (int k = random.Next(1, 5); k > 0; k--)
        {
            int at = offset + random.Next(count) * 8;
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = random.Next(4) == 0 ? (byte)random.Next(256) : s_opcodes[random.Next(s_opcodes.Length)];
                    break;
                case 1:
                {
                    // dst and src: often a valid register, sometimes R10 (the frame pointer) or one past R10.
                    int dst = random.Next(4) == 0 ? random.Next(16) : random.Next(11);
                    int src = random.Next(4) == 0 ? random.Next(16) : random.Next(11);
                    bytes[at + 1] = (byte)(dst | src << 4);
                    break;
                }
                case 2:
                {
                    short[] offsets = [0, 1, -1, 2, -2, 8, -8, -512, -513, 511, short.MinValue, short.MaxValue, (short)random.Next(-64, 64)];
                    BitConverter.TryWriteBytes(bytes.AsSpan(at + 2, 2), offsets[random.Next(offsets.Length)]);
                    break;
                }
                case 3:
                {
                    // Immediates: boundary values, helper ids, kfunc-ish ids, shift counts, small numbers.
                    int[] values = [0, 1, -1, 16, 32, 64, 63, 100_000, int.MinValue, int.MaxValue, random.Next(0, 220), random.Next(-16, 16)];
                    BitConverter.TryWriteBytes(bytes.AsSpan(at + 4, 4), values[random.Next(values.Length)]);
                    break;
                }
                default:
                    // An instruction from elsewhere in the section, copied over this one.
                    bytes.AsSpan(offset + random.Next(count) * 8, 8).CopyTo(bytes.AsSpan(at, 8));
                    break;
            }
        }
    }

    /// <summary>The byte ranges worth aiming at: ELF header, section header table, .BTF, .BTF.ext, relocation sections.</summary>
    private static (int Offset, int Size)[] Regions(byte[] elf)
    {
        int shoff = (int)BitConverter.ToUInt64(elf, 40);
        int shnum = BitConverter.ToUInt16(elf, 60);
        var list = new List<(int, int)> { (0, 64), (shoff, shnum * 64) };
        foreach (string name in s_aimedAt)
        {
            try
            {
                var (offset, size) = TestObjects.SectionExtent(elf, name);
                if (size > 0)
                {
                    list.Add((offset, size));
                }
            }
            catch (InvalidOperationException)
            {
                // Not every object has every section.
            }
        }
        return [.. list];
    }

    /// <summary>The program sections: SHT_PROGBITS with SHF_EXECINSTR.</summary>
    private static (int Offset, int Size)[] CodeSections(byte[] elf)
    {
        int shoff = (int)BitConverter.ToUInt64(elf, 40);
        int shnum = BitConverter.ToUInt16(elf, 60);
        var list = new List<(int, int)>();
        for (int i = 0; i < shnum; i++)
        {
            int h = shoff + i * 64;
            uint type = BitConverter.ToUInt32(elf, h + 4);
            ulong flags = BitConverter.ToUInt64(elf, h + 8);
            int size = (int)BitConverter.ToUInt64(elf, h + 32);
            if (type == 1 && (flags & 0x4) != 0 && size >= 8)
            {
                list.Add(((int)BitConverter.ToUInt64(elf, h + 24), size));
            }
        }
        return [.. list];
    }
}
