using System;
using System.IO;
using Ebpf.Btf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

public class BtfRawDumpTests
{
    /// <summary>What bpftool 7.1 prints for <see cref="SyntheticBtf.AllKinds"/> (checked by <see cref="SyntheticBtfMatchesBpftool"/>).</summary>
    private const string AllKindsExpected =
        "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n" +
        "[2] INT 'unsigned int' size=4 bits_offset=0 nr_bits=32 encoding=(none)\n" +
        "[3] INT 'char' size=1 bits_offset=0 nr_bits=8 encoding=UNKN\n" +
        "[4] INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL\n" +
        "[5] INT 'odd' size=4 bits_offset=2 nr_bits=5 encoding=CHAR\n" +
        "[6] PTR '(anon)' type_id=0\n" +
        "[7] CONST '(anon)' type_id=1\n" +
        "[8] VOLATILE '(anon)' type_id=7\n" +
        "[9] RESTRICT '(anon)' type_id=6\n" +
        "[10] ARRAY '(anon)' type_id=3 index_type_id=2 nr_elems=16\n" +
        "[11] STRUCT 'task_struct' size=40 vlen=5\n" +
        "\t'pid' type_id=1 bits_offset=0\n" +
        "\t'flags' type_id=2 bits_offset=32 bitfield_size=3\n" +
        "\t'ready' type_id=4 bits_offset=35 bitfield_size=1\n" +
        "\t'comm' type_id=10 bits_offset=64\n" +
        "\t'(anon)' type_id=2 bits_offset=192\n" +
        "[12] UNION '(anon)' size=8 vlen=2\n" +
        "\t'p' type_id=6 bits_offset=0\n" +
        "\t'naïve' type_id=2 bits_offset=0\n" +
        "[13] ENUM 'state' encoding=UNSIGNED size=4 vlen=2\n" +
        "\t'RUNNING' val=0\n" +
        "\t'MAX' val=4294967295\n" +
        "[14] ENUM 'sval' encoding=SIGNED size=4 vlen=3\n" +
        "\t'NEG' val=-1\n" +
        "\t'POS' val=7\n" +
        "\t'MIN' val=-2147483648\n" +
        "[15] ENUM 'empty_enum' encoding=UNSIGNED size=4 vlen=0\n" +
        "[16] ENUM64 'big' encoding=UNSIGNED size=8 vlen=2\n" +
        "\t'HUGE' val=18446744073709551600ULL\n" +
        "\t'ONE' val=1ULL\n" +
        "[17] ENUM64 'sbig' encoding=SIGNED size=8 vlen=2\n" +
        "\t'NEG' val=-5LL\n" +
        "\t'MIN' val=-9223372036854775808LL\n" +
        "[18] FWD 'sock' fwd_kind=struct\n" +
        "[19] FWD 'bpf_attr' fwd_kind=union\n" +
        "[20] TYPEDEF 'pid_t' type_id=1\n" +
        "[21] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2\n" +
        "\t'ctx' type_id=6\n" +
        "\t'n' type_id=2\n" +
        "[22] FUNC 'prog' type_id=21 linkage=global\n" +
        "[23] FUNC 'helper' type_id=21 linkage=static\n" +
        "[24] FUNC 'ext' type_id=21 linkage=extern\n" +
        "[25] FUNC_PROTO '(anon)' ret_type_id=0 vlen=2\n" +
        "\t'fmt' type_id=6\n" +
        "\t'(anon)' type_id=0\n" +
        "[26] FUNC 'printk' type_id=25 linkage=extern\n" +
        "[27] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0\n" +
        "[28] VAR 'counter' type_id=2, linkage=global\n" +
        "[29] VAR 'local' type_id=1, linkage=static\n" +
        "[30] VAR 'CONFIG_HZ' type_id=1, linkage=extern\n" +
        "[31] DATASEC '.bss' size=8 vlen=2\n" +
        "\ttype_id=28 offset=0 size=4 (VAR 'counter')\n" +
        "\ttype_id=29 offset=4 size=4 (VAR 'local')\n" +
        "[32] DATASEC '.kconfig' size=4 vlen=1\n" +
        "\ttype_id=30 offset=0 size=4 (VAR 'CONFIG_HZ')\n" +
        "[33] FLOAT 'double' size=8\n" +
        "[34] DECL_TAG 'bpf_kfunc' type_id=22 component_idx=-1\n" +
        "[35] DECL_TAG 'user' type_id=11 component_idx=1\n" +
        "[36] TYPE_TAG 'percpu' type_id=1\n" +
        "[37] DATASEC '.ksyms' size=0 vlen=1\n" +
        "\ttype_id=23 offset=0 size=0 (FUNC 'helper')\n";

    [Fact]
    public void EveryKindIsFormattedLikeBpftool()
    {
        var spec = BtfSpec.Parse(SyntheticBtf.AllKinds());
        string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(spec, w));
        Assert.True(AllKindsExpected == ours, BtfTestData.FirstDifference(AllKindsExpected, ours));
    }

    [Fact]
    public void BigEndianBtfDumpsTheSameValues()
    {
        var le = BtfSpec.Parse(SyntheticBtf.AllKinds());
        var be = BtfSpec.Parse(RebuildBigEndian());
        Assert.Equal(BtfTestData.Dump(w => BtfRawDump.WriteRaw(le, w)), BtfTestData.Dump(w => BtfRawDump.WriteRaw(be, w)));
    }

    private static byte[] RebuildBigEndian()
    {
        // Rebuild the same types through the builder's big-endian output.
        var spec = BtfSpec.Parse(SyntheticBtf.AllKinds());
        var b = new BtfBuilder(null, spec.OwnStrings);
        for (int id = 1; id < spec.TypeCount; id++)
        {
            var r = spec.GetRecord(id);
            var words = new uint[(r.Length - 12) / 4];
            for (int i = 0; i < words.Length; i++) words[i] = BitConverter.ToUInt32(r.Slice(12 + 4 * i, 4));
            uint info = BitConverter.ToUInt32(r.Slice(4, 4));
            b.AddRaw((int)BitConverter.ToUInt32(r.Slice(0, 4)), (BtfKind)((info >> 24) & 0x1f), (int)(info & 0xffff), (info >> 31) != 0, BitConverter.ToUInt32(r.Slice(8, 4)), words);
        }
        return b.Build(littleEndian: false);
    }

    [Fact]
    public void FormatTypeGivesOneTypeWithoutTrailingNewline()
    {
        var spec = BtfSpec.Parse(SyntheticBtf.AllKinds());
        Assert.Equal("[20] TYPEDEF 'pid_t' type_id=1", BtfRawDump.FormatType(spec, 20));
        Assert.Equal("[13] ENUM 'state' encoding=UNSIGNED size=4 vlen=2\n\t'RUNNING' val=0\n\t'MAX' val=4294967295", BtfRawDump.FormatType(spec, 13));
    }

    [Fact]
    public void SplitBtfListsOnlyOwnTypesButResolvesBaseNames()
    {
        var baseSpec = BtfSpec.Parse(SyntheticBtf.AllKinds());
        var b = new BtfBuilder(baseSpec);
        int v = b.AddVar("mod_var", 1);
        b.AddDatasec(".data", 4, (v, 0u, 4u), (28, 4u, 4u));
        b.AddPointer(11);
        var split = BtfSpec.Parse(b.Build(), baseSpec);
        string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(split, w));
        Assert.Equal(
            "[38] VAR 'mod_var' type_id=1, linkage=global\n" +
            "[39] DATASEC '.data' size=4 vlen=2\n" +
            "\ttype_id=38 offset=0 size=4 (VAR 'mod_var')\n" +
            "\ttype_id=28 offset=4 size=4 (VAR 'counter')\n" +
            "[40] PTR '(anon)' type_id=11\n", ours);
    }

    [Fact]
    public void SyntheticBtfMatchesBpftool()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        var dir = BtfTestData.TempDir();
        try
        {
            var file = Path.Combine(dir, "all.btf");
            File.WriteAllBytes(file, SyntheticBtf.AllKinds());
            var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", file, "format", "raw" });
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.True(AllKindsExpected == r.StdOut, BtfTestData.FirstDifference(r.StdOut, AllKindsExpected));
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }

    [Fact]
    public void SplitBtfMatchesBpftoolWithBase()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        var dir = BtfTestData.TempDir();
        try
        {
            var baseBytes = SyntheticBtf.AllKinds();
            var baseSpec = BtfSpec.Parse(baseBytes);
            var b = new BtfBuilder(baseSpec);
            int v = b.AddVar("mod_var", 1);
            b.AddDatasec(".data", 4, (v, 0u, 4u), (28, 4u, 4u));
            b.AddStruct("mod_struct", 16, new BtfBuilder.Member("t", 11, 0), new BtfBuilder.Member("naïve", 2, 64));
            var splitBytes = b.Build();
            File.WriteAllBytes(Path.Combine(dir, "base.btf"), baseBytes);
            File.WriteAllBytes(Path.Combine(dir, "split.btf"), splitBytes);
            var r = ProcessRunner.Run(bpftool, new[] { "-B", Path.Combine(dir, "base.btf"), "btf", "dump", "file", Path.Combine(dir, "split.btf"), "format", "raw" });
            Assert.True(r.ExitCode == 0, r.StdErr);
            string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(BtfSpec.Parse(splitBytes, baseSpec), w));
            Assert.True(r.StdOut == ours, BtfTestData.FirstDifference(r.StdOut, ours));
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }

    [Fact]
    public void KernelBtfMatchesBpftool()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        var bytes = BtfTestData.KernelBtfOrSkip();
        var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", BtfTestData.KernelBtfPath, "format", "raw" });
        Assert.True(r.ExitCode == 0, r.StdErr);
        string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(BtfSpec.Parse(bytes), w));
        Assert.True(r.StdOut == ours, BtfTestData.FirstDifference(r.StdOut, ours));
    }

    public static TheoryData<string> BpfObjects => BtfTestData.WithSentinel(BtfTestData.BpfObjectsWithBtf());

    [Theory]
    [MemberData(nameof(BpfObjects))]
    public void BpfObjectMatchesBpftool(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no BPF object with a .BTF section under bpf/ yet (run 'make -C bpf')");
        var bpftool = BtfTestData.BpftoolOrSkip();
        var path = BtfTestData.Resolve(relativePath);
        var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", path, "format", "raw" });
        Assert.True(r.ExitCode == 0, $"bpftool failed on {relativePath}: {r.StdErr}");
        string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(BtfSource.Parse(File.ReadAllBytes(path)), w));
        Assert.True(r.StdOut == ours, $"{relativePath}: " + BtfTestData.FirstDifference(r.StdOut, ours));
    }

    public static TheoryData<string> KernelArchives => BtfTestData.WithSentinel(BtfTestData.KernelBtfArchives());

    [Theory]
    [MemberData(nameof(KernelArchives))]
    public void KernelBtfArchiveMatchesBpftool(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no tests/data/btf/*.btf.gz yet (scripts/extract-kernel-btf.sh creates them)");
        var bpftool = BtfTestData.BpftoolOrSkip();
        var bytes = BtfTestData.ReadMaybeGzip(BtfTestData.Resolve(relativePath));
        var dir = BtfTestData.TempDir();
        try
        {
            var file = Path.Combine(dir, "kernel.btf");
            File.WriteAllBytes(file, bytes);
            var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", file, "format", "raw" });
            Assert.True(r.ExitCode == 0, r.StdErr);
            string ours = BtfTestData.Dump(w => BtfRawDump.WriteRaw(BtfSpec.Parse(bytes), w));
            Assert.True(r.StdOut == ours, $"{relativePath}: " + BtfTestData.FirstDifference(r.StdOut, ours));
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }
}
