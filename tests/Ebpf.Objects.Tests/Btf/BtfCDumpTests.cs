using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Ebpf.Btf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

public class BtfCDumpTests
{
    /// <summary>
    /// Our output where it deliberately differs from bpftool 7.1 (libbpf 1.1), turned back into bpftool's:
    /// <list type="bullet">
    /// <item>libbpf 1.1 writes 1-byte and 8-byte enums without mode(byte)/mode(word), so they come out 4 bytes
    /// wide and every struct embedding one gets the wrong layout (newer libbpf adds the attributes, as we do);</item>
    /// <item>libbpf skips the kernel's __builtin_va_list typedef and lets the BPF target's builtin (a pointer)
    /// stand in for x86-64's 24-byte va_list; we keep the kernel's under another name.</item>
    /// <item>libbpf marks only structs packed; a packed union (smaller than a multiple of its alignment) is
    /// written without the attribute and grows. Both sides lose their packed attributes for the comparison
    /// (the compile tests check that ours are right).</item>
    /// </list>
    /// </summary>
    internal static string AsBpftool11(string ours)
    {
        ours = ours.Replace(" __attribute__((packed))", "");
        ours = ours.Replace(" __attribute__((mode(byte)))", "").Replace(" __attribute__((mode(word)))", "");
        ours = System.Text.RegularExpressions.Regex.Replace(ours, @"(?m)^typedef [^\n]*[ *]" + BtfCDump.KernelVaListName + @"(\[[0-9]+\])*;\n\n", "");
        return ours.Replace(BtfCDump.KernelVaListName, "__builtin_va_list");
    }

    private static string DumpC(BtfSpec spec) => BtfTestData.Dump(w => BtfCDump.WriteC(spec, w));

    [Fact]
    public void HeaderHasGuardAndPreserveAccessIndexPragma()
    {
        string c = DumpC(BtfSpec.Parse(SyntheticCBtf.Build()));
        Assert.StartsWith("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n", c);
        Assert.EndsWith("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n", c);
    }

    [Fact]
    public void SyntheticTypesComeOutAsExpectedC()
    {
        string c = DumpC(BtfSpec.Parse(SyntheticCBtf.Build()));
        // Mutual references: B needs only a forward declaration of A; A embeds B so B comes first.
        Assert.Contains("struct A;\n\nstruct B {\n\tstruct A *a;\n\tstruct B *self;\n};\n\nstruct A {\n\tstruct B b;\n\tint x;\n};", c);
        Assert.Contains("struct packed_s {\n\tchar c;\n\tint i;\n} __attribute__((packed));", c);
        Assert.Contains("struct tail_pad {\n\tint a;\n\tlong: 64;\n};", c);
        Assert.Contains("struct bits {\n\tunsigned int a: 3;\n\tunsigned int b: 5;\n\tint: 24;\n\tunsigned int c: 1;\n\tchar: 7;\n\tunsigned char d: 2;\n\tlong: 22;\n\tlong unsigned int e: 33;\n};", c);
        Assert.Contains("struct empty {};", c);
        Assert.Contains("struct nested {\n\tint kind;\n\tunion {\n\t\tstruct {\n\t\t\tunsigned int lo;\n\t\t\tunsigned int hi;\n\t\t};\n\t\tlong unsigned int whole;\n\t};\n};", c);
        Assert.Contains("typedef int (*handler_t)(void *ctx, int n);", c);
        Assert.Contains("\tint (*fns[4])(const char *fmt, ...);\n\tvoid (*init)(void);\n\tint (*pa)[10];\n\tint m[2][3];\n\tconst char * const volatile name;", c);
        Assert.Contains("\tint __attribute__((btf_type_tag(\"user\"))) *uptr;", c);
        Assert.Contains("typedef int fn_t(void *ctx, int n);", c);
        Assert.Contains("struct ops {\n\tint (*fns[4])(const char *fmt, ...);", c);
        Assert.Contains("\t_Bool ok;\n\tlong: 64;\n};", c);
        Assert.Contains("typedef struct __va_list_tag " + BtfCDump.KernelVaListName + "[1];", c);
        Assert.Contains("struct dup {\n\tint x;\n};", c);
        Assert.Contains("struct dup___2 {\n\tlong int y;\n};", c);
        Assert.Contains("enum e2 {\n\tCLASH___2 = 3,\n};", c);
        Assert.Contains("enum sgn {\n\tNEG = -1,\n\tZERO = 0,\n};", c);
        Assert.Contains("enum e64 {\n\tBIG = 4294967296ULL,\n\tSMALL = 1ULL,\n};", c);
        Assert.Contains("enum s64 {\n\tMINUS = -2LL,\n};", c);
        Assert.Contains("enum w64 {\n\tA64 = 1ULL,\n} __attribute__((mode(word)));", c);
        Assert.Contains("enum wide {\n\tW = 1,\n} __attribute__((mode(word)));", c);
        Assert.Contains("enum {\n\tTOP_LEVEL_CONST = 5,\n};", c);
        Assert.Contains("\tenum {\n\t\tINLINE_NEG = -3,\n\t} s;", c);
        Assert.Contains("typedef struct {\n\tint v;\n} anon_t;", c);
        Assert.Contains("union opaque_u;", c);
        Assert.DoesNotContain("typedef struct __va_list_tag __builtin_va_list", c);
        Assert.DoesNotContain("global_var", c);
        Assert.DoesNotContain("prog", c);
    }

    [Fact]
    public void FormatDeclarationWritesCDeclarators()
    {
        var spec = BtfSpec.Parse(SyntheticCBtf.Build());
        int ops = spec.FindByName("ops", BtfKind.Struct);
        var members = ((BtfStruct)spec[ops]).Members;
        Assert.Equal("int (*fns[4])(const char *fmt, ...)", BtfCDump.FormatDeclaration(spec, members[0].TypeId, "fns"));
        Assert.Equal("int(*)[10]", BtfCDump.FormatDeclaration(spec, members[2].TypeId));
        Assert.Equal("struct ops", BtfCDump.FormatDeclaration(spec, ops));
    }

    [Fact]
    public void SyntheticTypesMatchBpftool()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        CompareWithBpftool(bpftool, SyntheticCBtf.Build(), "synthetic");
    }

    [Fact]
    public void SplitBtfHeaderMatchesBpftoolWithBase()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        var baseBytes = SyntheticCBtf.Build();
        var baseSpec = BtfSpec.Parse(baseBytes);
        var b = new BtfBuilder(baseSpec);
        int anon = b.AddStruct("", 4, new BtfBuilder.Member("q", 1, 0));
        b.AddStruct("mod_s", 24, new BtfBuilder.Member("a", baseSpec.FindByName("A", BtfKind.Struct), 0));
        b.AddStruct("dup", 2, new BtfBuilder.Member("z", baseSpec.FindByName("short int", BtfKind.Int), 0));
        b.AddTypedef("mod_anon_t", anon);
        var splitBytes = b.Build();
        var dir = BtfTestData.TempDir();
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "base.btf"), baseBytes);
            File.WriteAllBytes(Path.Combine(dir, "mod.btf"), splitBytes);
            var r = ProcessRunner.Run(bpftool, new[] { "-B", Path.Combine(dir, "base.btf"), "btf", "dump", "file", Path.Combine(dir, "mod.btf"), "format", "c" });
            Assert.True(r.ExitCode == 0, r.StdErr);
            string ours = DumpC(BtfSpec.Parse(splitBytes, baseSpec));
            // Split BTF dumps as C with its base's types too (as bpftool does); names clash across both.
            Assert.Contains("struct dup___3 {\n\tshort int z;\n};", ours);
            ours = AsBpftool11(ours);
            string theirs = r.StdOut.Replace(" __attribute__((packed))", "");
            Assert.True(theirs == ours, BtfTestData.FirstDifference(theirs, ours));
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }

    [Fact]
    public void KernelHeaderMatchesBpftool()
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        CompareWithBpftool(bpftool, BtfTestData.KernelBtfOrSkip(), BtfTestData.KernelBtfPath);
    }

    public static TheoryData<string> KernelArchives => BtfTestData.WithSentinel(BtfTestData.KernelBtfArchives());
    public static TheoryData<string> BpfObjects => BtfTestData.WithSentinel(BtfTestData.BpfObjectsWithBtf());

    [Theory]
    [MemberData(nameof(KernelArchives))]
    public void KernelArchiveHeaderMatchesBpftool(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no tests/data/btf/*.btf.gz yet");
        var bpftool = BtfTestData.BpftoolOrSkip();
        CompareWithBpftool(bpftool, BtfTestData.ReadMaybeGzip(BtfTestData.Resolve(relativePath)), relativePath);
    }

    [Theory]
    [MemberData(nameof(BpfObjects))]
    public void BpfObjectHeaderMatchesBpftool(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no BPF object with .BTF under bpf/ yet");
        var bpftool = BtfTestData.BpftoolOrSkip();
        var path = BtfTestData.Resolve(relativePath);
        var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", path, "format", "c" });
        Assert.True(r.ExitCode == 0, r.StdErr);
        string ours = AsBpftool11(DumpC(BtfSource.Parse(File.ReadAllBytes(path))));
        string theirs = r.StdOut.Replace(" __attribute__((packed))", "");
        Assert.True(theirs == ours, $"{relativePath}: " + BtfTestData.FirstDifference(theirs, ours));
    }

    private static void CompareWithBpftool(string bpftool, byte[] btf, string what)
    {
        var dir = BtfTestData.TempDir();
        try
        {
            var file = Path.Combine(dir, "in.btf");
            File.WriteAllBytes(file, btf);
            var r = ProcessRunner.Run(bpftool, new[] { "btf", "dump", "file", file, "format", "c" });
            Assert.True(r.ExitCode == 0, r.StdErr);
            string ours = AsBpftool11(DumpC(BtfSpec.Parse(btf)));
            string theirs = r.StdOut.Replace(" __attribute__((packed))", "");
            Assert.True(theirs == ours, $"{what}: " + BtfTestData.FirstDifference(theirs, ours));
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }

    // ------------------------------------------------------------------ compile checks

    [Fact]
    public void SyntheticHeaderCompilesWithMatchingLayout()
    {
        var clang = BtfTestData.ClangOrSkip();
        CompileWithLayoutAsserts(clang, BtfSpec.Parse(SyntheticCBtf.Build()), "synthetic", program: null);
    }

    private const string TaskProgram = @"
#define SEC(name) __attribute__((section(name), used))
SEC(""tp/sched/sched_process_exec"")
int read_task(void *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx;
	int pid = t->pid;
	int ppid = t->real_parent->tgid;
	char c = t->comm[0];
	return pid + ppid + c;
}
char LICENSE[] SEC(""license"") = ""GPL"";
";

    [Fact]
    public void KernelHeaderCompilesForBpfWithMatchingLayout()
    {
        var clang = BtfTestData.ClangOrSkip();
        var spec = BtfSpec.Parse(BtfTestData.KernelBtfOrSkip());
        CompileWithLayoutAsserts(clang, spec, BtfTestData.KernelBtfPath, TaskProgram);
    }

    [Theory]
    [MemberData(nameof(KernelArchives))]
    public void KernelArchiveHeaderCompilesWithMatchingLayout(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no tests/data/btf/*.btf.gz yet");
        var clang = BtfTestData.ClangOrSkip();
        var spec = BtfTestData.ParseFile(BtfTestData.Resolve(relativePath));
        CompileWithLayoutAsserts(clang, spec, relativePath, TaskProgram);
    }

    [Theory]
    [MemberData(nameof(BpfObjects))]
    public void BpfObjectHeaderCompilesWithMatchingLayout(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no BPF object with .BTF under bpf/ yet");
        var clang = BtfTestData.ClangOrSkip();
        var spec = BtfTestData.ParseFile(BtfTestData.Resolve(relativePath));
        CompileWithLayoutAsserts(clang, spec, relativePath, program: null);
    }

    /// <summary>
    /// Writes the header and a C file that includes it and checks, with _Static_assert, the size of every struct
    /// and union whose C name is unambiguous and the offset of every byte-aligned named member (flattened through
    /// anonymous members); compiles it with clang -target bpf.
    /// </summary>
    private static void CompileWithLayoutAsserts(string clang, BtfSpec spec, string what, string? program)
    {
        var dir = BtfTestData.TempDir();
        try
        {
            File.WriteAllText(Path.Combine(dir, "vmlinux.h"), DumpC(spec));
            var (asserts, structs, members) = LayoutAsserts(spec);
            Assert.True(structs > 0 || spec.TypeCount < 50, $"{what}: no struct to check");
            var src = new StringBuilder();
            src.Append("#include \"vmlinux.h\"\n");
            src.Append(asserts);
            if (program != null) src.Append(program);
            File.WriteAllText(Path.Combine(dir, "check.bpf.c"), src.ToString());
            var r = ProcessRunner.Run(clang, new[] { "-target", "bpf", "-O2", "-g", "-Wno-unknown-attributes", "-c", "check.bpf.c", "-o", "check.bpf.o" }, 600_000, dir);
            string err = r.StdErr.Length > 4000 ? r.StdErr.Substring(0, 4000) : r.StdErr;
            Assert.True(r.ExitCode == 0, $"{what}: clang failed ({structs} structs, {members} member offsets checked):\n{err}");
        }
        finally
        {
            BtfTestData.DeleteQuietly(dir);
        }
    }

    internal static (string Text, int Structs, int Members) LayoutAsserts(BtfSpec spec)
    {
        // Struct, union and enum tags share C's tag namespace; a name used more than once gets ___N suffixes.
        var tagCount = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 1; id < spec.TypeCount; id++)
        {
            var k = spec.GetKind(id);
            if (spec.GetNameOffset(id) == 0) continue;
            if (k == BtfKind.Struct || k == BtfKind.Union || k == BtfKind.Enum64 || (k == BtfKind.Enum && spec.GetVlen(id) > 0))
            {
                string n = spec.GetName(id);
                tagCount[n] = tagCount.TryGetValue(n, out int c) ? c + 1 : 1;
            }
        }
        var sb = new StringBuilder();
        int structs = 0, members = 0;
        for (int id = 1; id < spec.TypeCount; id++)
        {
            var k = spec.GetKind(id);
            if (k != BtfKind.Struct && k != BtfKind.Union) continue;
            if (spec.GetNameOffset(id) == 0) continue;
            string name = spec.GetName(id);
            if (tagCount[name] != 1 || name.Contains("___", StringComparison.Ordinal)) continue;
            string tag = (k == BtfKind.Struct ? "struct " : "union ") + name;
            long size = spec.GetSizeOrType(id);
            sb.Append("_Static_assert(sizeof(").Append(tag).Append(") == ").Append(size).Append(", \"sizeof ").Append(name).Append("\");\n");
            structs++;
            var layout = BtfLayout.Of(spec, id);
            foreach (var m in layout.Members)
            {
                if (m.Path.Length == 0 || m.IsBitfield || m.BitOffset % 8 != 0) continue;
                sb.Append("_Static_assert(__builtin_offsetof(").Append(tag).Append(", ").Append(m.Path).Append(") == ")
                  .Append(m.Offset).Append(", \"").Append(name).Append('.').Append(m.Path).Append("\");\n");
                members++;
            }
        }
        return (sb.ToString(), structs, members);
    }
}
