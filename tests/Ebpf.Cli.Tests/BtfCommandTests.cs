using System;
using System.IO;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

public class BtfDumpCommandTests
{
    [Fact]
    public void RawDumpOfABtfFile()
    {
        using var dir = new TempDir();
        var file = dir.File("k.btf", TestBtf.Kernel(0x620));
        var r = CliRunner.Run("btf", "dump", file);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.StdErr);
        Assert.StartsWith("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n", r.StdOut);
        Assert.Contains("[5] STRUCT 'task_struct' size=1584 vlen=3\n\t'pid' type_id=1 bits_offset=0\n\t'flags' type_id=2 bits_offset=32 bitfield_size=3\n\t'comm' type_id=4 bits_offset=12544\n", r.StdOut);
        var sw = new StringWriter();
        BtfRawDump.WriteRaw(BtfSpec.Parse(TestBtf.Kernel(0x620)), sw);
        Assert.Equal(sw.ToString(), r.StdOut);
    }

    [Fact]
    public void FormatOptionAndGzipInput()
    {
        using var dir = new TempDir();
        var gz = dir.Gzip("k.btf.gz", TestBtf.Kernel(0x620));
        var raw = CliRunner.Run("btf", "dump", gz, "--format", "raw");
        Assert.True(raw.ExitCode == 0, raw.ToString());
        Assert.Contains("STRUCT 'task_struct'", raw.StdOut);
        var c = CliRunner.Run("btf", "dump", gz, "--format", "c");
        Assert.True(c.ExitCode == 0, c.ToString());
        Assert.StartsWith("#ifndef __VMLINUX_H__\n", c.StdOut);
        Assert.Contains("struct task_struct {\n\tint pid;\n\tunsigned int flags: 3;\n", c.StdOut);
        Assert.Contains("\tchar comm[16];\n};\n", c.StdOut);
        Assert.EndsWith("#endif /* __VMLINUX_H__ */\n", c.StdOut);
        var shortOpt = CliRunner.Run("btf", "dump", gz, "-f", "c");
        Assert.Equal(c.StdOut, shortOpt.StdOut);
    }

    [Fact]
    public void SplitBtfWithBase()
    {
        using var dir = new TempDir();
        var baseBytes = TestBtf.Kernel(0x620);
        var baseSpec = BtfSpec.Parse(baseBytes);
        var b = new BtfBuilder(baseSpec);
        b.AddStruct("module_thing", 8, new BtfBuilder.Member("task", 6, 0));
        var baseFile = dir.File("vmlinux", baseBytes);
        var split = dir.File("mod", b.Build());
        var r = CliRunner.Run("btf", "dump", split, "--base", baseFile);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("[9] STRUCT 'module_thing' size=8 vlen=1\n\t'task' type_id=6 bits_offset=0\n", r.StdOut);
        var withoutBase = CliRunner.Run("btf", "dump", split);
        Assert.Equal(1, withoutBase.ExitCode);
        Assert.Contains(split, withoutBase.StdErr);
    }

    [Fact]
    public void KernelRawDumpMatchesBpftool()
    {
        const string vmlinux = "/sys/kernel/btf/vmlinux";
        if (!File.Exists(vmlinux))
            Assert.Skip($"{vmlinux} does not exist");
        string bpftool = TestEnvironment.RequireTool("bpftool", "bpftool");
        var (exit, expected, _) = TestEnvironment.Run(bpftool, new[] { "btf", "dump", "file", vmlinux, "format", "raw" });
        Assert.Equal(0, exit);
        var r = CliRunner.Run("btf", "dump", vmlinux);
        Assert.Equal(0, r.ExitCode);
        Assert.True(expected == r.StdOut, "raw dump of the kernel BTF differs from bpftool's");
    }

    [Fact]
    public void MissingFileIsOneLineNamingTheFileAndExit1()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope.btf");
        var r = CliRunner.Run("btf", "dump", missing);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.Equal($"dotnet-ebpf: {missing}: no such file\n", r.StdErr);
    }

    [Fact]
    public void GarbageFileNamesTheFileAndTheOffset()
    {
        using var dir = new TempDir();
        var garbage = dir.File("garbage.bin", System.Text.Encoding.ASCII.GetBytes("this is not BTF at all"));
        var r = CliRunner.Run("btf", "dump", garbage);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
        Assert.Contains(garbage, r.StdErr);
        Assert.Contains("offset 0x0", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void TruncatedBtfNamesTheOffsetOfTheBadRecord()
    {
        using var dir = new TempDir();
        var bytes = TestBtf.Kernel(0x620);
        // Header claims more type bytes than there are.
        BitConverter.GetBytes(10_000u).CopyTo(bytes, 12);
        var file = dir.File("trunc.btf", bytes);
        var r = CliRunner.Run("btf", "dump", file, "-f", "c");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"dotnet-ebpf: {file}: BTF: at offset 0x8 (8): type section", r.StdErr);
    }

    [Fact]
    public void ElfWithoutBtfSectionIsReported()
    {
        using var dir = new TempDir();
        // A minimal ELF64 header with no sections.
        var elf = new byte[64];
        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
        elf[4] = 2; elf[5] = 1; elf[6] = 1;
        elf[16] = 1; elf[18] = 247; elf[52] = 64;
        var file = dir.File("empty.o", elf);
        var r = CliRunner.Run("btf", "dump", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"dotnet-ebpf: {file}: BPF object: ELF file has no .BTF section\n", r.StdErr);
    }

    [Theory]
    [InlineData("btf", "dump")]
    [InlineData("btf", "dump", "x.btf", "--format", "json")]
    [InlineData("btf", "dump", "x.btf", "--bogus")]
    [InlineData("btf")]
    [InlineData("nosuchgroup")]
    [InlineData("btf", "struct")]
    [InlineData("btf", "diff", "a")]
    public void UsageErrorsExit2(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Equal("", r.StdOut);
        Assert.NotEqual("", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void HelpListsTheBtfCommands()
    {
        var r = CliRunner.Run("btf", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("dump", r.StdOut);
        Assert.Contains("struct", r.StdOut);
        Assert.Contains("diff", r.StdOut);
    }
}

public class BtfStructCommandTests
{
    [Fact]
    public void LayoutOfAStructFromAFile()
    {
        using var dir = new TempDir();
        var file = dir.File("k.btf", TestBtf.Kernel(0x620));
        var r = CliRunner.Run("btf", "struct", "task_struct", "--btf", file);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("struct task_struct {", r.StdOut);
        Assert.Contains("    int pid;", r.StdOut);
        Assert.Contains("    unsigned int flags: 3;", r.StdOut);
        Assert.Contains("    char comm[16];", r.StdOut);
        Assert.Contains("/*   0x620     1568       16 */", r.StdOut);
        Assert.Contains("/* XXX 1563 bytes 5 bits hole */", r.StdOut);
        Assert.EndsWith("};  /* size: 1584 (0x630), align: 4, members: 3, holes: 1 (1563 bytes 5 bits) */\n", r.StdOut);
        var withKeyword = CliRunner.Run("btf", "struct", "struct task_struct", "--btf", file);
        Assert.Equal(r.StdOut, withKeyword.StdOut);
    }

    [Fact]
    public void UnknownStructIsAnError()
    {
        using var dir = new TempDir();
        var file = dir.File("k.btf", TestBtf.Kernel(0x620));
        var r = CliRunner.Run("btf", "struct", "no_such_struct", "--btf", file);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"dotnet-ebpf: {file}: no struct or union named 'no_such_struct'\n", r.StdErr);
    }

    [Fact]
    public void DefaultsToTheKernelBtf()
    {
        if (!File.Exists("/sys/kernel/btf/vmlinux"))
            Assert.Skip("/sys/kernel/btf/vmlinux does not exist");
        var r = CliRunner.Run("btf", "struct", "task_struct");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("struct task_struct {", r.StdOut);
        Assert.Contains(" comm[16];", r.StdOut);
    }

    [Fact]
    public void MissingBtfFileIsNamed()
    {
        var r = CliRunner.Run("btf", "struct", "task_struct", "--btf", "/nonexistent/vmlinux");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("dotnet-ebpf: /nonexistent/vmlinux: no such file\n", r.StdErr);
    }
}

public class BtfDiffCommandTests
{
    [Fact]
    public void CommMovedIsAnsweredInOneCommand()
    {
        using var dir = new TempDir();
        var a = dir.File("a.btf", TestBtf.Kernel(0x620));
        var b = dir.Gzip("b.btf.gz", TestBtf.Kernel(0x624, withExtra: true));
        var r = CliRunner.Run("btf", "diff", a, b, "task_struct");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(
            "struct task_struct: size 1584 -> 1588 (+4), 2 members changed\n" +
            "    comm moved from 0x620 to 0x624 (+4)\n" +
            "    + extra added at 0x620 (1568), size 4: unsigned int extra\n" +
            "1 compared, 1 with differences\n", r.StdOut);
    }

    [Fact]
    public void AllCommonStructsWhenNoNameIsGiven()
    {
        using var dir = new TempDir();
        var a = dir.File("a.btf", TestBtf.Kernel(0x620));
        var same = CliRunner.Run("btf", "diff", a, a);
        Assert.Equal(0, same.ExitCode);
        Assert.Equal("1 compared, 0 with differences\n", same.StdOut);
        var b = dir.File("b.btf", TestBtf.Kernel(0x624, withExtra: true));
        var r = CliRunner.Run("btf", "diff", a, b);
        Assert.Contains("comm moved from 0x620 to 0x624 (+4)", r.StdOut);
    }

    [Fact]
    public void MissingTypeAndMissingFile()
    {
        using var dir = new TempDir();
        var a = dir.File("a.btf", TestBtf.Kernel(0x620));
        var r = CliRunner.Run("btf", "diff", a, a, "sk_buff");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"sk_buff: no struct or union of that name in either {a} or {a}", r.StdOut);
        var missing = CliRunner.Run("btf", "diff", a, Path.Combine(dir.Path, "b.btf"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"dotnet-ebpf: {Path.Combine(dir.Path, "b.btf")}: no such file\n", missing.StdErr);
    }
}
