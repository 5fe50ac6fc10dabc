using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// Per-architecture objects (BpfObject items with Architecture metadata): one skeleton that embeds each object and
/// opens the one of the process's architecture. bpf/attach_kprobe.bpf.o and bpf/arm64/attach_kprobe.bpf.o differ only
/// in pt_regs accesses and in the syscall wrapper named by their kprobe.multi sections.
/// </summary>
public class ArchitectureVariantTests
{
    private static string Bpf(string file) => Path.Combine(TestEnvironment.RepoRoot, "bpf", file);

    private static BpfItem X64(string name, string? className = null) =>
        new BpfItem(Bpf(name + ".bpf.o"), ClassName: className, ResourceName: $"ebpf/x64/{name}.bpf.o", Architecture: "x64");

    private static BpfItem Arm64(string name, string? className = null, string architecture = "arm64") =>
        new BpfItem(Bpf($"arm64/{name}.bpf.o"), ClassName: className, ResourceName: $"ebpf/arm64/{name}.bpf.o", Architecture: architecture);

    private static string HostResource(string name) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => $"ebpf/arm64/{name}.bpf.o",
        _ => $"ebpf/x64/{name}.bpf.o",
    };

    [Fact]
    public void VariantsOfOneClassBecomeOneSkeletonThatChoosesByProcessArchitecture()
    {
        var run = new GeneratorHarness().Add(X64("attach_kprobe")).Add(Arm64("attach_kprobe", architecture: "aarch64")).Run();
        Assert.Empty(run.GeneratorDiagnostics);
        string source = run.SingleSource;
        Assert.Contains("public static string ResourceName => global::System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch", source);
        Assert.Contains("global::System.Runtime.InteropServices.Architecture.X64 => \"ebpf/x64/attach_kprobe.bpf.o\",", source);
        Assert.Contains("global::System.Runtime.InteropServices.Architecture.Arm64 => \"ebpf/arm64/attach_kprobe.bpf.o\",", source);
        Assert.Contains("attach_kprobe has BPF objects for X64, Arm64 only", source);
        Assert.DoesNotContain("public const string ResourceName", source);
        Assert.Empty(run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void TheEmbeddedObjectOfThisArchitectureIsOpened()
    {
        // The skeleton compiled into an assembly with both objects embedded, as the build does, then opened here.
        var run = new GeneratorHarness().Add(X64("attach_kprobe")).Add(Arm64("attach_kprobe")).Run();
        var resources = new[] { ("ebpf/x64/attach_kprobe.bpf.o", Bpf("attach_kprobe.bpf.o")), ("ebpf/arm64/attach_kprobe.bpf.o", Bpf("arm64/attach_kprobe.bpf.o")) }
            .Select(r => new ResourceDescription(r.Item1, () => File.OpenRead(r.Item2), isPublic: true)).ToList();
        using var image = new MemoryStream();
        var emit = run.Output.Emit(image, manifestResources: resources);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        var context = new RuntimeLoadContext();
        try
        {
            image.Position = 0;
            var type = context.LoadFromStream(image).GetTypes().Single(t => t.Name == "AttachKprobeSkeleton");
            Assert.Equal(HostResource("attach_kprobe"), type.GetProperty("ResourceName")!.GetValue(null));
            var architectures = ((System.Collections.IEnumerable)type.GetField("Architectures")!.GetValue(null)!).Cast<Architecture>();
            Assert.Equal(new[] { Architecture.X64, Architecture.Arm64 }, architectures);
            var open = type.GetMethods().Single(m => m.Name == "Open" && m.GetParameters().Length == 1);
            using var skeleton = (IDisposable)open.Invoke(null, new object?[] { null })!;
            // (reflection: this test project cannot reference Ebpf.Runtime, see its .csproj)
            object obj = type.GetProperty("Object")!.GetValue(skeleton)!;
            object program = obj.GetType().GetMethod("GetProgram", new[] { typeof(string) })!.Invoke(obj, new object[] { "getpgid_multi" })!;
            string wrapper = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "__arm64_sys_getpgid" : "__x64_sys_getpgid";
            Assert.Equal("kprobe.multi/" + wrapper, program.GetType().GetProperty("SectionName")!.GetValue(program));
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Loads the generated assembly with the runtime the compile tests reference (Ebpf.Runtime for net8.0).</summary>
    private sealed class RuntimeLoadContext : AssemblyLoadContext
    {
        public RuntimeLoadContext() : base("architecture-variants", isCollectible: true) { }

        protected override Assembly? Load(AssemblyName name) => name.Name switch
        {
            "Ebpf.Runtime" => LoadFromAssemblyPath(References.RuntimePath),
            "Microsoft.Extensions.Logging.Abstractions" => LoadFromAssemblyPath(References.LoggingAbstractionsPath),
            _ => null,
        };
    }

    [Fact]
    public void ABuildForOneArchitectureHasThatVariantOnly()
    {
        // What Ebpf.Skeletons.targets leaves for -r linux-arm64: only the arm64 item.
        var run = new GeneratorHarness().Add(Arm64("attach_uprobe")).Run();
        Assert.Empty(run.GeneratorDiagnostics);
        string source = run.SingleSource;
        Assert.Contains("global::System.Runtime.InteropServices.Architecture.Arm64 => \"ebpf/arm64/attach_uprobe.bpf.o\",", source);
        Assert.DoesNotContain("Architecture.X64 =>", source);
        Assert.Contains("attach_uprobe has BPF objects for Arm64 only; this process runs on ", source);
    }

    private static (string Path, byte[] Bytes, string? Architecture) Kernel(string file, string? architecture)
    {
        string path = DiagnosticsTests.KernelBtf(file);
        return (path, File.ReadAllBytes(path), architecture);
    }

    // attach_kprobe's pt_regs accesses resolve on the kernels of its own architecture only: the x64 object reads
    // pt_regs.di/.ax, which arm64's pt_regs lacks; the arm64 object reads user_pt_regs.regs[], which x86-64 lacks.
    [Fact]
    public void CorePreflightChecksEachVariantAgainstTheKernelsOfItsArchitectureOnly()
    {
        var h = new GeneratorHarness().Add(X64("attach_kprobe")).Add(Arm64("attach_kprobe"));
        h.KernelBtfs.Add(Kernel("6.1.0-56-amd64.btf.gz", "x64"));
        h.KernelBtfs.Add(Kernel("6.1.0-57-arm64.btf.gz", "aarch64"));
        Assert.Empty(h.Run().GeneratorDiagnostics);
    }

    [Fact]
    public void CorePreflightChecksEveryVariantAgainstAKernelOfUnknownArchitecture()
    {
        var h = new GeneratorHarness().Add(X64("attach_kprobe")).Add(Arm64("attach_kprobe"));
        h.KernelBtfs.Add(Kernel("6.1.0-56-amd64.btf.gz", null));
        h.KernelBtfs.Add(Kernel("6.1.0-57-arm64.btf.gz", null));
        var warnings = h.Run().GeneratorDiagnostics;
        Assert.All(warnings, d => Assert.Equal("EBPF012", d.Id));
        // Each object warns about the other architecture's kernel, never its own.
        var x64 = warnings.Where(d => d.Location.GetLineSpan().Path == Bpf("attach_kprobe.bpf.o")).Select(d => d.GetMessage()).ToList();
        var arm64 = warnings.Where(d => d.Location.GetLineSpan().Path == Bpf("arm64/attach_kprobe.bpf.o")).Select(d => d.GetMessage()).ToList();
        Assert.Equal(warnings.Length, x64.Count + arm64.Count);
        Assert.Contains(x64, m => m.Contains("'pt_regs.di' in program 'unlink_entry'", StringComparison.Ordinal));
        Assert.Contains(arm64, m => m.Contains("'user_pt_regs.regs[0]' in program 'unlink_entry'", StringComparison.Ordinal));
        Assert.All(x64, m => Assert.Contains("kernel BTF '6.1.0-57-arm64.btf.gz'", m));
        Assert.All(arm64, m => Assert.Contains("kernel BTF '6.1.0-56-amd64.btf.gz'", m));
    }

    [Fact]
    public void CorePreflightLeavesOutKernelsOfTheOtherArchitecture()
    {
        // An arm64 object with only an x64 kernel listed: nothing to check it against, so no warning.
        var h = new GeneratorHarness().Add(Arm64("attach_uprobe"));
        h.KernelBtfs.Add(Kernel("6.1.0-56-amd64.btf.gz", "amd64"));
        Assert.Empty(h.Run().GeneratorDiagnostics);
        // The same kernel without Architecture metadata is checked, and the arm64 pt_regs reads fail there.
        h = new GeneratorHarness().Add(Arm64("attach_uprobe"));
        h.KernelBtfs.Add(Kernel("6.1.0-56-amd64.btf.gz", null));
        Assert.Contains(h.Run().GeneratorDiagnostics, d => d.Id == "EBPF012" && d.GetMessage().Contains("user_pt_regs", StringComparison.Ordinal));
    }

    [Fact]
    public void VariantsThatDifferAreAnError()
    {
        var h = new GeneratorHarness().Add(X64("attach_kprobe", "Probes")).Add(Arm64("attach_uprobe", "Probes"));
        var run = h.Run();
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("EBPF019", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(Bpf("attach_kprobe.bpf.o"), d.Location.GetLineSpan().Path);
        string message = d.GetMessage();
        Assert.Contains("variants of class 'Probes' but differ in", message);
        Assert.Contains("(X64)", message);
        Assert.Contains("(Arm64)", message);
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void TheSameArchitectureTwiceIsADuplicateClass()
    {
        var run = new GeneratorHarness().Add(X64("attach_kprobe")).Add(Arm64("attach_kprobe", architecture: "amd64")).Run();
        Assert.Equal("EBPF018", Assert.Single(run.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void AnUnknownArchitectureIsInvalidMetadata()
    {
        var run = new GeneratorHarness().Add(Arm64("attach_kprobe", architecture: "mips")).Run();
        var d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("EBPF016", d.Id);
        Assert.Contains("Architecture 'mips' is not an architecture the runtime supports (x64 or arm64)", d.GetMessage());
    }
}
