extern alias tasks;

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Xunit;
using MinimizeKernelBtf = tasks::Ebpf.Skeletons.Tasks.MinimizeKernelBtf;
using ResolveKernelBtf = tasks::Ebpf.Skeletons.Tasks.ResolveKernelBtf;
using TaskBtfSpec = tasks::Ebpf.Btf.BtfSpec;
using TaskGzip = tasks::Ebpf.Gzip;
using TaskMinimizer = tasks::Ebpf.Core.CoreBtfMinimizer;
using TaskObjectSpec = tasks::Ebpf.Objects.BpfObjectSpec;

namespace Ebpf.Generator.Tests;

/// <summary>
/// The BpfKernelBtf build tasks, run in-process: BTFHub archives (<c>&lt;distro&gt;/&lt;version&gt;/&lt;arch&gt;/RELEASE.btf.tar.xz</c>,
/// made here with tar and xz from a stored kernel BTF) are read and keyed by release and architecture; a kernel of
/// another architecture than the build's RuntimeIdentifier is left out; names that contradict each other or repeat
/// a kernel are errors. (tests/e2e/package-e2e.sh runs the same tasks from the package in a real build.)
/// </summary>
public class KernelBtfTaskTests : IDisposable
{
    private readonly string _dir = TestEnvironment.TempDir("ebpf-kbtf-task");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static string Stored(string release) => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", release + ".btf.gz");

    /// <summary>BTFHub's archive of a stored kernel's BTF: RELEASE.btf in a tar, xz-compressed, at DISTRO/VERSION/ARCH/.</summary>
    private string BtfHubArchive(string storedRelease, string relativeDir, string? release = null)
    {
        TestEnvironment.RequireTool("xz", "xz-utils");
        TestEnvironment.RequireTool("tar", "tar");
        release ??= storedRelease;
        string raw = Path.Combine(_dir, "raw-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(raw);
        File.WriteAllBytes(Path.Combine(raw, release + ".btf"), Gzip.Decompress(File.ReadAllBytes(Stored(storedRelease))));
        string dir = Path.Combine(_dir, "btfhub", relativeDir);
        Directory.CreateDirectory(dir);
        string archive = Path.Combine(dir, release + ".btf.tar.xz");
        var (code, _, err) = TestEnvironment.Run("/bin/sh", new[] { "-c", "tar -C \"$1\" -cf - \"$2\" | xz -1 > \"$3\"", "_", raw, release + ".btf", archive });
        Assert.True(code == 0, "tar | xz failed: " + err);
        return archive;
    }

    /// <summary>A file named like a kernel BTF (ResolveKernelBtf reads at most its first 6 bytes).</summary>
    private string Placeholder(string relativePath)
    {
        string path = Path.Combine(_dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[] { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0 });
        return path;
    }

    private static TaskItem Item(string path, bool embed = true, string? release = null, string? architecture = null)
    {
        var item = new TaskItem(path);
        if (embed) item.SetMetadata("Embed", "true");
        if (release != null) item.SetMetadata("KernelRelease", release);
        if (architecture != null) item.SetMetadata("Architecture", architecture);
        return item;
    }

    private (bool Ok, ITaskItem[] Resolved, Engine Log) Resolve(string target, params ITaskItem[] items)
    {
        var engine = new Engine();
        var task = new ResolveKernelBtf { BuildEngine = engine, KernelBtf = items, IntermediateDir = Path.Combine(_dir, "obj") + "/", TargetArchitecture = target };
        bool ok = task.Execute();
        return (ok, task.Resolved, engine);
    }

    [Fact]
    public void ABtfHubArchiveIsReadKeyedByReleaseAndArchitectureAndMinimized()
    {
        string archive = BtfHubArchive("5.10.0-46-amd64", "debian/11/x86_64");
        var (ok, resolved, log) = Resolve(string.Empty, Item(archive));
        Assert.True(ok, log.Text);
        var k = Assert.Single(resolved);
        Assert.Equal("5.10.0-46-amd64", k.GetMetadata("Release"));
        Assert.Equal("x64", k.GetMetadata("Architecture"));
        Assert.Equal("ebpf/btf/x64/5.10.0-46-amd64.btf.gz", k.GetMetadata("ResourceName"));
        Assert.Equal(Path.Combine(_dir, "obj", "btf", "x64", "5.10.0-46-amd64.btf.gz"), k.GetMetadata("WritePath"));
        Assert.Equal(k.GetMetadata("WritePath"), k.GetMetadata("GeneratorInput"));

        // Minimized for the project's object: the minimizer's output for the raw BTF inside the archive, gzip-compressed.
        var obj = new TaskItem(TestEnvironment.Bpf("exec_snoop"));
        var engine = new Engine();
        Assert.True(new MinimizeKernelBtf { BuildEngine = engine, Kernels = resolved, Objects = new ITaskItem[] { obj } }.Execute(), engine.Text);
        Assert.Contains("ebpf: kernel 5.10.0-46-amd64 (x64): ", engine.Text, StringComparison.Ordinal);
        byte[] raw = Gzip.Decompress(File.ReadAllBytes(Stored("5.10.0-46-amd64")));
        var minimizer = new TaskMinimizer(TaskBtfSpec.Parse(raw), "5.10.0-46-amd64");
        minimizer.Add(TaskObjectSpec.Parse(File.ReadAllBytes(TestEnvironment.Bpf("exec_snoop"))));
        Assert.Equal(minimizer.Build().Bytes, TaskGzip.Decompress(File.ReadAllBytes(k.GetMetadata("WritePath"))));

        // Without Embed, an archive is unpacked for the pre-flight: the raw BTF, byte for byte.
        (ok, resolved, log) = Resolve(string.Empty, Item(archive, embed: false));
        Assert.True(ok, log.Text);
        k = Assert.Single(resolved);
        Assert.Equal(Path.Combine(_dir, "obj", "kernel", "x64", "5.10.0-46-amd64.btf"), k.GetMetadata("WritePath"));
        Assert.True(new MinimizeKernelBtf { BuildEngine = new Engine(), Kernels = resolved }.Execute());
        Assert.Equal(raw, File.ReadAllBytes(k.GetMetadata("WritePath")));
    }

    /// <summary>
    /// The rule for architectures: a build for one RuntimeIdentifier keeps the kernels of its architecture (and those
    /// whose architecture nothing tells) and leaves the others out, saying so; a portable build keeps them all.
    /// </summary>
    [Theory]
    [InlineData("", true, true)]
    [InlineData("x64", true, false)]
    [InlineData("arm64", false, true)]
    public void AKernelOfAnotherArchitectureThanTheBuildsIsLeftOut(string target, bool x64Kept, bool arm64Kept)
    {
        string arm64 = BtfHubArchive("6.1.0-57-arm64", "debian/12/arm64");
        string x64 = Placeholder("kernels/6.1.0-56-amd64.btf.gz");           // Debian: the release says amd64
        string neutral = Placeholder("kernels/5.4.0-1103-aws.btf.gz");       // Ubuntu: nothing says
        var (ok, resolved, log) = Resolve(target, Item(arm64), Item(x64), Item(neutral));
        Assert.True(ok, log.Text);
        var releases = resolved.Select(r => r.GetMetadata("Release")).ToList();
        Assert.Equal(x64Kept, releases.Contains("6.1.0-56-amd64"));
        Assert.Equal(arm64Kept, releases.Contains("6.1.0-57-arm64"));
        Assert.Contains("5.4.0-1103-aws", releases);
        Assert.Equal("ebpf/btf/5.4.0-1103-aws.btf.gz", resolved.Single(r => r.GetMetadata("Release") == "5.4.0-1103-aws").GetMetadata("ResourceName"));
        if (!arm64Kept)
            Assert.Contains($"is arm64 kernel BTF (its directory 'arm64') and this build is for {target}", log.Text, StringComparison.Ordinal);
        if (!x64Kept)
            Assert.Contains("is x64 kernel BTF (its release 6.1.0-56-amd64) and this build is for arm64", log.Text, StringComparison.Ordinal);
        Assert.Empty(log.Warnings);
    }

    /// <summary>Ubuntu's releases are the same on both architectures: BTFHub's x86_64/ and arm64/ copies are two kernels.</summary>
    [Fact]
    public void OneReleaseOnTwoArchitecturesIsTwoKernels()
    {
        string x64 = Placeholder("ubuntu/20.04/x86_64/5.4.0-1103-aws.btf.tar.xz");
        string arm64 = Placeholder("ubuntu/20.04/arm64/5.4.0-1103-aws.btf.tar.xz");
        var (ok, resolved, log) = Resolve(string.Empty, Item(x64), Item(arm64));
        Assert.True(ok, log.Text);
        Assert.Equal(new[] { "ebpf/btf/arm64/5.4.0-1103-aws.btf.gz", "ebpf/btf/x64/5.4.0-1103-aws.btf.gz" },
            resolved.Select(r => r.GetMetadata("ResourceName")).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(2, resolved.Select(r => r.GetMetadata("EncodedName")).Distinct().Count());

        // Without the directories nothing tells them apart: one release twice is an error that says what to add.
        string a = Placeholder("a/5.4.0-1103-aws.btf.gz");
        string b = Placeholder("b/5.4.0-1103-aws.btf.gz");
        (ok, _, log) = Resolve(string.Empty, Item(a), Item(b));
        Assert.False(ok);
        var e = Assert.Single(log.Errors);
        Assert.Equal("EBPF103", e.Code);
        Assert.Contains("are both BTF of kernel 5.4.0-1103-aws", e.Message, StringComparison.Ordinal);
        Assert.Contains("Architecture=\"x64\" or \"arm64\" on each item", e.Message, StringComparison.Ordinal);

        // ... which Architecture metadata does.
        (ok, resolved, log) = Resolve(string.Empty, Item(a, architecture: "x86_64"), Item(b, architecture: "aarch64"));
        Assert.True(ok, log.Text);
        Assert.Equal(new[] { "arm64", "x64" }, resolved.Select(r => r.GetMetadata("Architecture")).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void ADirectoryAndAReleaseThatDisagreeAreAnError()
    {
        string path = Placeholder("debian/12/x86_64/6.1.0-57-arm64.btf.tar.xz");
        var (ok, _, log) = Resolve(string.Empty, Item(path));
        Assert.False(ok);
        var e = Assert.Single(log.Errors);
        Assert.Equal("EBPF106", e.Code);
        Assert.Contains("its directory 'x86_64' says x64 but its release 6.1.0-57-arm64 says arm64", e.Message, StringComparison.Ordinal);

        // Architecture metadata settles it (and wins over both).
        (ok, var resolved, log) = Resolve("arm64", Item(path, architecture: "arm64"));
        Assert.True(ok, log.Text);
        Assert.Equal("ebpf/btf/arm64/6.1.0-57-arm64.btf.gz", Assert.Single(resolved).GetMetadata("ResourceName"));

        (ok, _, log) = Resolve(string.Empty, Item(path, architecture: "riscv64"));
        Assert.False(ok);
        Assert.Equal("EBPF106", Assert.Single(log.Errors).Code);
        Assert.Contains("Architecture 'riscv64' is not an architecture the runtime supports", log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ABrokenArchiveIsReportedAsSuch()
    {
        string archive = BtfHubArchive("5.10.0-46-amd64", "debian/11/x86_64");
        byte[] bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes.AsSpan(0, bytes.Length / 2).ToArray());   // truncated xz stream
        var (ok, resolved, log) = Resolve(string.Empty, Item(archive));
        Assert.True(ok, log.Text);
        var engine = new Engine();
        Assert.False(new MinimizeKernelBtf { BuildEngine = engine, Kernels = resolved, Objects = new ITaskItem[] { new TaskItem(TestEnvironment.Bpf("exec_snoop")) } }.Execute());
        var e = Assert.Single(engine.Errors);
        Assert.Equal("EBPF104", e.Code);
        Assert.Contains("cannot be read as kernel BTF", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Assert.Single(resolved).GetMetadata("WritePath")));
    }

    /// <summary>Collects what a task logs.</summary>
    private sealed class Engine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = new();
        public List<BuildWarningEventArgs> Warnings { get; } = new();
        public List<string> Messages { get; } = new();

        public string Text => string.Join("\n", Errors.Select(e => $"error {e.Code}: {e.Message}").Concat(Warnings.Select(w => $"warning {w.Code}: {w.Message}")).Concat(Messages));

        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test.csproj";
        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);
        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? string.Empty);
        public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Add(e.Message ?? string.Empty);
        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    }
}
