using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>Every diagnostic of the catalog, with exact ids, severities and locations.</summary>
public class DiagnosticsTests
{
    internal static string Bpf(string file) => Path.Combine(TestEnvironment.RepoRoot, "bpf", file);

    internal static string TestObject(string file) => Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Generator.Tests", "TestData", "objects", file);

    internal static string KernelBtf(string file) => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", file);

    private static List<Diagnostic> Run(GeneratorHarness h) => h.Run().GeneratorDiagnostics.OrderBy(d => d.Id, StringComparer.Ordinal).ToList();

    private static List<Diagnostic> Run(BpfItem item, string userSource = "") =>
        Run(new GeneratorHarness().Add(item).AddSource(userSource));

    private static void AssertAtItem(Diagnostic d, string id, DiagnosticSeverity severity, string path)
    {
        Assert.Equal(id, d.Id);
        Assert.Equal(severity, d.Severity);
        Assert.Equal(path, d.Location.GetLineSpan().Path);
        Assert.Equal(0, d.Location.GetLineSpan().StartLinePosition.Line);
    }

    private static Diagnostic Single(List<Diagnostic> diagnostics, string id)
    {
        Assert.True(diagnostics.Count(d => d.Id == id) == 1, $"expected one {id}, got: {string.Join("; ", diagnostics)}");
        return diagnostics.Single(d => d.Id == id);
    }

    [Fact]
    public void NotAnElfFile()
    {
        string path = Bpf("broken/notelf.bin");
        var d = Assert.Single(Run(new BpfItem(path)));
        AssertAtItem(d, "EBPF001", DiagnosticSeverity.Error, path);
        Assert.Contains("is not an ELF file", d.GetMessage());
    }

    [Fact]
    public void ElfButNotBpf()
    {
        string path = Bpf("broken/notbpf.o");
        var d = Assert.Single(Run(new BpfItem(path)));
        AssertAtItem(d, "EBPF002", DiagnosticSeverity.Error, path);
        Assert.Contains("x86-64", d.GetMessage());
        Assert.Contains("clang -target bpf", d.GetMessage());
    }

    [Fact]
    public void TruncatedObject()
    {
        string path = Bpf("broken/truncated.bpf.o");
        var d = Assert.Single(Run(new BpfItem(path)));
        AssertAtItem(d, "EBPF003", DiagnosticSeverity.Error, path);
    }

    [Theory]
    [InlineData("broken/nobtf.bpf.o")]
    [InlineData("fidelity/nobtf_globals.bpf.o")]
    public void NoBtfWarnsWithCompileWithG_AndGivesTheUntypedSkeleton(string file)
    {
        // As bpftool does: maps (here the .bss and .data maps) as plain BpfMaps, programs typed by section, no
        // globals or C types; the warning says how to get them.
        string path = Bpf(file);
        var harness = new GeneratorHarness().Add(new BpfItem(path));
        var run = harness.Run();
        var d = Assert.Single(run.GeneratorDiagnostics);
        AssertAtItem(d, "EBPF004", DiagnosticSeverity.Warning, path);
        Assert.Contains("clang -g", d.GetMessage());
        string source = run.SingleSource;
        Assert.Contains("public global::Ebpf.XdpProgram ", source);
        if (file.Contains("globals"))
        {
            Assert.Contains("public global::Ebpf.BpfMap Bss { get; }", source);
            Assert.Contains("public global::Ebpf.BpfMap Data { get; }", source);
            Assert.Contains("public global::Ebpf.TracepointProgram CountGetpid { get; }", source);
            Assert.DoesNotContain("DataSection", source.Replace("GetDataSection", string.Empty).Replace("BpfDataSection", string.Empty));
        }
        foreach (var tfm in new[] { "net8.0", "net10.0" })
        {
            var errors = CompileTests.Compile(new GeneratorHarness().Add(new BpfItem(path)), tfm).Where(x => x.Id != "EBPF004").ToList();
            Assert.True(errors.Count == 0, string.Join("\n", errors.Take(20)));
        }
    }

    [Fact]
    public void NoLicenseWarnsAboutGplHelpers()
    {
        string path = Bpf("broken/nolicense.bpf.o");
        var diagnostics = Run(new BpfItem(path));
        var d = Single(diagnostics, "EBPF005");
        AssertAtItem(d, "EBPF005", DiagnosticSeverity.Warning, path);
        Assert.Contains("GPL-only helpers", d.GetMessage());
        // It also reads task_struct at a fixed offset.
        Assert.Equal(new[] { "EBPF005", "EBPF009" }, diagnostics.Select(x => x.Id));
    }

    [Fact]
    public void HardcodedOffsetsWithoutCoreRelocations()
    {
        string path = Bpf("hardcoded.bpf.o");
        var d = Assert.Single(Run(new BpfItem(path, Types: "comm_event")));
        AssertAtItem(d, "EBPF009", DiagnosticSeverity.Warning, path);
        Assert.Contains("bpf_probe_read_kernel in program 'handle_getpid'", d.GetMessage());
        Assert.Contains("tied to the one kernel layout", d.GetMessage());
    }

    [Fact]
    public void CoreObjectsDoNotGetTheHardcodedWarning()
    {
        foreach (var name in new[] { "core_comm.bpf.o", "exec_snoop.bpf.o", "core_fields.bpf.o" })
            Assert.DoesNotContain(Run(new BpfItem(Bpf(name))), d => d.Id == "EBPF009");
    }

    [Fact]
    public void MapWithOnlySizes()
    {
        string path = TestObject("untyped_map.bpf.o");
        var d = Assert.Single(Run(new BpfItem(path)));
        AssertAtItem(d, "EBPF008", DiagnosticSeverity.Warning, path);
        Assert.Contains("Map 'sized_only' (Hash) declares only key/value sizes (4/8 bytes)", d.GetMessage());
        var run = new GeneratorHarness().Add(new BpfItem(path)).Run();
        Assert.Contains("public global::Ebpf.BpfMap SizedOnly { get; }", run.SingleSource);
    }

    [Fact]
    public void CollidingNamesAndUnknownSection()
    {
        string path = TestObject("collide.bpf.o");
        var run = new GeneratorHarness().Add(new BpfItem(path)).Run();
        var diagnostics = run.GeneratorDiagnostics.OrderBy(d => d.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "EBPF010", "EBPF011" }, diagnostics.Select(d => d.Id));
        AssertAtItem(diagnostics[0], "EBPF010", DiagnosticSeverity.Warning, path);
        Assert.Equal("Map 'fooBar' becomes 'FooBar' in C#, which is already taken by map foo_bar: it is named 'FooBar2'", diagnostics[0].GetMessage());
        AssertAtItem(diagnostics[1], "EBPF011", DiagnosticSeverity.Warning, path);
        Assert.Contains("Program 'mystery' is in section 'nosuchkind/whatever'", diagnostics[1].GetMessage());
        Assert.Contains("public global::Ebpf.BpfProgram Mystery { get; }", run.SingleSource);
        Assert.Contains("FooBar2", run.SingleSource);
    }

    [Fact]
    public void UnknownExtraType()
    {
        string path = Bpf("exec_snoop.bpf.o");
        var d = Assert.Single(Run(new BpfItem(path, Types: "event;no_such_struct")));
        AssertAtItem(d, "EBPF014", DiagnosticSeverity.Warning, path);
        Assert.Contains("'no_such_struct'", d.GetMessage());
    }

    [Fact]
    public void InvalidClassNameAndNamespace()
    {
        string path = Bpf("maps.bpf.o");
        var d = Assert.Single(Run(new BpfItem(path, ClassName: "Not A Name")));
        AssertAtItem(d, "EBPF016", DiagnosticSeverity.Error, path);
        d = Assert.Single(Run(new BpfItem(path, Namespace: "My..Ns")));
        AssertAtItem(d, "EBPF016", DiagnosticSeverity.Error, path);
    }

    [Fact]
    public void KeywordsInNamespaceAreEscaped()
    {
        var run = new GeneratorHarness().Add(new BpfItem(Bpf("maps.bpf.o"), Namespace: "My.event.class")).Run();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("namespace My.@event.@class", run.SingleSource);
    }

    [Fact]
    public void DuplicateSkeletonClass()
    {
        var h = new GeneratorHarness()
            .Add(new BpfItem(Bpf("maps.bpf.o"), ClassName: "Same"))
            .Add(new BpfItem(Bpf("globals.bpf.o"), ClassName: "Same"));
        var d = Assert.Single(Run(h));
        Assert.Equal("EBPF018", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(Bpf("maps.bpf.o"), d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void CorePreflightWarnsPerFailingRelocationAndKernel()
    {
        string path = Bpf("core_flavors.bpf.o");
        var h = new GeneratorHarness().Add(new BpfItem(path));
        string kernel = KernelBtf("6.1.0-56-amd64.btf.gz");
        h.KernelBtfs.Add((kernel, File.ReadAllBytes(kernel), null));
        var diagnostics = Run(h);
        var d = Single(diagnostics, "EBPF012");
        AssertAtItem(d, "EBPF012", DiagnosticSeverity.Warning, path);
        string message = d.GetMessage();
        Assert.Contains("program 'read_state_unguarded'", message);
        Assert.Contains("task_struct", message);
        Assert.Contains("state", message);
        Assert.Contains("'6.1.0-56-amd64.btf.gz'", message);
        Assert.Contains("bpf_core_field_exists()", message);
    }

    [Fact]
    public void CorePreflightIsQuietWhenEverythingResolves()
    {
        var h = new GeneratorHarness().Add(new BpfItem(Bpf("exec_snoop.bpf.o")));
        string kernel = KernelBtf("6.12.117+deb12-amd64.btf.gz");
        h.KernelBtfs.Add((kernel, File.ReadAllBytes(kernel), null));
        Assert.Empty(Run(h));
    }

    [Fact]
    public void UnreadableKernelBtf()
    {
        var h = new GeneratorHarness().Add(new BpfItem(Bpf("core_comm.bpf.o")));
        h.KernelBtfs.Add(("/k/garbage.btf", new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, null));
        var d = Assert.Single(Run(h));
        Assert.Equal("EBPF015", d.Id);
        Assert.Contains("'garbage.btf'", d.GetMessage());
    }

    // ------------------------------------------------------------------ user-supplied types

    private const string UserPath = "/project/User0.cs";

    private static void AssertInUserSource(Diagnostic d, string id, string source, string fragment)
    {
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        var span = d.Location.GetLineSpan();
        Assert.Equal(UserPath, span.Path);
        int start = source.IndexOf(fragment, StringComparison.Ordinal);
        Assert.True(start >= 0);
        int line = source.Substring(0, start).Count(c => c == '\n');
        Assert.Equal(line, span.StartLinePosition.Line);
    }

    [Fact]
    public void MapValueTypeWithTheWrongField()
    {
        const string source = """
            using System.Runtime.InteropServices;
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("stats_map", Key = typeof(uint), Value = typeof(MyStats))]
                public partial class MapsSkeleton { }

                [StructLayout(LayoutKind.Sequential)]
                public struct MyStats
                {
                    public ulong Calls;
                    public ulong Bytes;
                    public uint LastTgid;
                    public float Flags;
                    public long Comm0;
                    public long Comm1;
                }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("maps.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        AssertInUserSource(d, "EBPF006", source, "[BpfMapTypes(\"stats_map\"");
        Assert.Equal("Map 'stats_map' value: C# type 'Ebpf.Tests.Generated.MyStats' does not match BTF type 'struct stats': field 'flags' at offset 20 is a unsigned integer (__u32), but C# field 'Flags' is a floating point (float)", d.GetMessage());
    }

    [Fact]
    public void MapKeyOfTheWrongSize()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("exec_start", Key = typeof(long))]
                public partial class ExecSnoopSkeleton { }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        AssertInUserSource(d, "EBPF006", source, "[BpfMapTypes(\"exec_start\"");
        Assert.StartsWith("Map 'exec_start' key: C# type 'long' does not match BTF type 'pid_t': size differs", d.GetMessage());
    }

    [Fact]
    public void MatchingUserTypesAreUsedAndPassQuietly()
    {
        const string source = """
            using System.Runtime.InteropServices;
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("stats_map", Key = typeof(uint), Value = typeof(MyStats))]
                public partial class MapsSkeleton { }

                [StructLayout(LayoutKind.Sequential)]
                public unsafe struct MyStats
                {
                    public ulong Calls;
                    public ulong Bytes;
                    public uint LastTgid;
                    public uint Flags;
                    public fixed byte Comm[16];
                }
            }
            """;
        var run = new GeneratorHarness().Add(new BpfItem(Bpf("maps.bpf.o"), Namespace: "Ebpf.Tests.Generated")).AddSource(source).Run();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("public global::Ebpf.BpfHashMap<uint, global::Ebpf.Tests.Generated.MyStats> StatsMap { get; }", run.SingleSource);
    }

    [Fact]
    public void PartialStructWithTheBtfNameIsChecked()
    {
        const string source = """
            using System.Runtime.InteropServices;
            namespace Ebpf.Tests.Generated
            {
                public partial class ExecSnoopSkeleton
                {
                    [StructLayout(LayoutKind.Explicit, Size = 176)]
                    public partial struct Event
                    {
                        [FieldOffset(0)] public int Pid;
                        [FieldOffset(4)] public int Ppid;
                        [FieldOffset(8)] public uint ExitCode;
                        [FieldOffset(12)] public ulong DurationNs;
                    }
                }
            }
            """;
        var run = new GeneratorHarness().Add(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated", Types: "event")).AddSource(source).Run();
        var d = Assert.Single(run.GeneratorDiagnostics);
        AssertInUserSource(d, "EBPF006", source, "public partial struct Event");
        Assert.Equal("Partial struct 'Event': C# type 'Ebpf.Tests.Generated.ExecSnoopSkeleton.Event' does not match BTF type 'struct event': field 'duration_ns' (unsigned long long, 8 bytes at offset 16) has no C# field at offset 16", d.GetMessage());
        // The user's declaration replaces the generated one.
        Assert.DoesNotContain("public partial struct Event", run.SingleSource);
    }

    [Fact]
    public void RingBufferEventOnAHashMapIsTheWrongKind()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfRingBufferEvent("exec_start", typeof(long))]
                public partial class ExecSnoopSkeleton { }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        AssertInUserSource(d, "EBPF007", source, "[BpfRingBufferEvent(");
        Assert.StartsWith("Map 'exec_start' is a Hash map: it carries no ring-buffer events", d.GetMessage());
    }

    [Fact]
    public void PerCpuValuesOnAPlainMapIsTheWrongKind()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("hash_map", Value = typeof(ulong), PerCpu = true)]
                public partial class MapsSkeleton { }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("maps.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        AssertInUserSource(d, "EBPF007", source, "[BpfMapTypes(");
        Assert.StartsWith("Map 'hash_map' is a Hash map: its values are not per-CPU", d.GetMessage());
    }

    [Fact]
    public void KeyOnAQueueIsTheWrongKind()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("queue_map", Key = typeof(uint))]
                public partial class MapsSkeleton { }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("maps.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        Assert.Equal("EBPF007", d.Id);
        Assert.Equal("Map 'queue_map' is a Queue map: it has no key", d.GetMessage());
    }

    [Fact]
    public void RingBufferEventTypeIsCheckedAndGetsAReader()
    {
        const string source = """
            using System.Runtime.InteropServices;
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfRingBufferEvent("rb", typeof(Event))]
                public partial class ExecSnoopSkeleton { }

                [StructLayout(LayoutKind.Sequential)]
                public struct Event
                {
                    public int Pid;
                    public int Ppid;
                    public uint ExitCode;
                    public ulong DurationNs;
                }
            }
            """;
        var run = new GeneratorHarness().Add(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated", Types: "event")).AddSource(source).Run();
        var d = Assert.Single(run.GeneratorDiagnostics);
        AssertInUserSource(d, "EBPF006", source, "[BpfRingBufferEvent(");
        Assert.StartsWith("Ring buffer 'rb' event: C# type 'Ebpf.Tests.Generated.Event' does not match BTF type 'struct event': size differs: BTF 'struct event' is 176 bytes, 'Ebpf.Tests.Generated.Event' is 24 bytes", d.GetMessage());
        Assert.Contains("public static global::Ebpf.Tests.Generated.Event ReadRbEvent(global::System.ReadOnlySpan<byte> data)", run.SingleSource);
    }

    [Fact]
    public void GeneratedEventTypeForARingBuffer()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfRingBufferEvent("rb", typeof(ExecSnoopSkeleton.Event))]
                public partial class ExecSnoopSkeleton { }
            }
            """;
        var run = new GeneratorHarness().Add(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated", Types: "event")).AddSource(source).Run();
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("ReadRbEvent(global::System.ReadOnlySpan<byte> data)", run.SingleSource);
        var diagnostics = CompileTests.Compile(new GeneratorHarness().Add(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated", Types: "event")).AddSource(source), "net10.0");
        Assert.True(diagnostics.Count == 0, string.Join("\n", diagnostics));
    }

    [Fact]
    public void UnknownMapInAttribute()
    {
        const string source = """
            using Ebpf.Skeletons;
            namespace Ebpf.Tests.Generated
            {
                [BpfMapTypes("nope", Value = typeof(int))]
                public partial class ExecSnoopSkeleton { }
            }
            """;
        var d = Assert.Single(Run(new BpfItem(Bpf("exec_snoop.bpf.o"), Namespace: "Ebpf.Tests.Generated"), source));
        AssertInUserSource(d, "EBPF013", source, "[BpfMapTypes(");
        Assert.Equal("'[BpfMapTypes]' names map 'nope', which 'exec_snoop' does not define (maps: exec_start, rb)", d.GetMessage());
    }

    // ------------------------------------------------------------------ robustness

    [Fact]
    public void CorruptInputsNeverThrowIntoTheCompiler()
    {
        var bytes = File.ReadAllBytes(Bpf("exec_snoop.bpf.o"));
        var rng = new Random(1234);
        foreach (int length in new[] { 0, 1, 4, 20, 64, 200, 1000, bytes.Length / 3, bytes.Length / 2, bytes.Length - 1 })
        {
            var run = new GeneratorHarness().Add(new BpfItem("/x/cut.bpf.o", Bytes: bytes.AsSpan(0, length).ToArray())).Run();
            Assert.All(run.GeneratorDiagnostics, d => Assert.StartsWith("EBPF", d.Id));
            Assert.NotEmpty(run.GeneratorDiagnostics);
        }
        for (int i = 0; i < 20; i++)
        {
            var copy = (byte[])bytes.Clone();
            for (int k = 0; k < 50; k++)
                copy[rng.Next(64, copy.Length)] = (byte)rng.Next(256);
            var run = new GeneratorHarness().Add(new BpfItem("/x/flipped.bpf.o", Bytes: copy)).Run();
            Assert.All(run.GeneratorDiagnostics, d => Assert.StartsWith("EBPF", d.Id));
            Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "CS8785");   // generator failed
        }
    }

    [Fact]
    public void UnreadableEncodedCopyIsAnInternalErrorNotACrash()
    {
        var item = new BpfItem("/x/bad.bpf.o", Bytes: new byte[] { 1 });
        var text = new TestAdditionalText(item.EncodedPath, "this is not base64 !!!");
        var driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(
            new[] { new SkeletonGenerator().AsSourceGenerator() }, new Microsoft.CodeAnalysis.AdditionalText[] { text }, GeneratorHarness.ParseOptions,
            new TestOptionsProvider(new Dictionary<string, TestOptions> { [text.Path] = GeneratorHarness.OptionsFor(item) }));
        var d = Assert.Single(driver.RunGenerators(new GeneratorHarness().CreateCompilation()).GetRunResult().Diagnostics);
        AssertAtItem(d, "EBPF017", DiagnosticSeverity.Error, "/x/bad.bpf.o");
        Assert.Contains("not base64", d.GetMessage());
    }

    [Fact]
    public void CatalogIsComplete()
    {
        var ids = Model.DiagnosticKind.All.Select(k => k.Id).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => $"EBPF{i:000}"), ids);
        Assert.All(Model.DiagnosticKind.All, k => Assert.False(string.IsNullOrWhiteSpace(k.Title)));
    }
}
