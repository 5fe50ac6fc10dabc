using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// A kernel without /sys/kernel/btf/vmlinux (simulated: the loader is pointed at a path that does not exist):
/// an object that needs the kernel's BTF fails with an error that says what to do; given a BTF file
/// (<see cref="BpfObjectOptions.TargetBtfPath"/>, raw or .gz) it loads. Objects that need no kernel BTF load either way.
/// </summary>
[Collection(FdAccountingCollection.Name)] // changes process-wide state
public class NoKernelBtfTests
{
    private sealed class NoVmlinux : IDisposable
    {
        private readonly string _previous = KernelBtf.VmlinuxLocation;
        public NoVmlinux() => KernelBtf.VmlinuxLocation = "/nonexistent/sys/kernel/btf/vmlinux";
        public void Dispose() => KernelBtf.VmlinuxLocation = _previous;
    }

    [Theory]
    [InlineData("core_comm")]      // CO-RE field relocations
    [InlineData("exec_snoop")]     // CO-RE, tracepoints
    [InlineData("externs_typed")]  // typed ksyms resolved by BTF
    public void WithoutKernelBtfTheErrorSaysWhatToDo(string name)
    {
        TestEnvironment.RequireRoot();
        using var _ = new NoVmlinux();
        Assert.False(KernelBtf.IsAvailable);
        using var obj = BpfObject.Open(TestEnvironment.Bpf(name));
        var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
        Assert.Contains("/nonexistent/sys/kernel/btf/vmlinux", e.Message, StringComparison.Ordinal);
        Assert.Contains("TargetBtfPath", e.Message, StringComparison.Ordinal);
        Assert.Contains("CONFIG_DEBUG_INFO_BTF", e.Message, StringComparison.Ordinal);
        Assert.False(obj.IsLoaded);
    }

    [Theory]
    [InlineData("core_comm", false)]
    [InlineData("exec_snoop", false)]
    [InlineData("externs_typed", false)]
    [InlineData("core_comm", true)]
    [InlineData("exec_snoop", true)]
    public void WithAUserSuppliedBtfFileTheObjectLoads(string name, bool gzip)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        TestEnvironment.RequireTracefs();
        // The user's file: this kernel's BTF, copied (as BTFHub or a distribution would ship it).
        string dir = TestEnvironment.TempDir("ebpf-nobtf");
        try
        {
            string path = Path.Combine(dir, gzip ? "vmlinux.btf.gz" : "vmlinux.btf");
            var bytes = File.ReadAllBytes(KernelBtf.VmlinuxPath);
            if (gzip)
            {
                using var fs = File.Create(path);
                using var gz = new GZipStream(fs, CompressionLevel.Fastest);
                gz.Write(bytes);
            }
            else
            {
                File.WriteAllBytes(path, bytes);
            }
            using var _ = new NoVmlinux();
            using var obj = BpfObject.Open(TestEnvironment.Bpf(name), new BpfObjectOptions { TargetBtfPath = path });
            KernelSupport.OrSkip(() => { obj.Load(); return obj; }); // typed ksyms: a BTF with VARs
            Assert.True(obj.IsLoaded);
            if (name == "exec_snoop")
            {
                obj.Attach();
                Assert.NotEmpty(obj.Links);
                obj.Detach();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ABadBtfFileIsReportedAsSuch()
    {
        TestEnvironment.RequireRoot();
        string dir = TestEnvironment.TempDir("ebpf-nobtf");
        try
        {
            string path = Path.Combine(dir, "garbage.btf");
            File.WriteAllBytes(path, new byte[] { 0x9f, 0xeb, 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
            using var _ = new NoVmlinux();
            using var obj = BpfObject.Open(TestEnvironment.Bpf("core_comm"), new BpfObjectOptions { TargetBtfPath = path });
            var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
            Assert.Contains("is not valid BTF", e.Message, StringComparison.Ordinal);
            using var obj2 = BpfObject.Open(TestEnvironment.Bpf("core_comm"), new BpfObjectOptions { TargetBtfPath = Path.Combine(dir, "missing.btf") });
            var e2 = Assert.Throws<BpfEnvironmentException>(obj2.Load);
            Assert.Contains("does not exist", e2.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("globals")]
    [InlineData("calls")]
    [InlineData("prog_array")]
    public void ObjectsThatNeedNoKernelBtfLoadWithoutIt(string name)
    {
        TestEnvironment.RequireRoot();
        using var _ = new NoVmlinux();
        using var obj = BpfObject.Load(TestEnvironment.Bpf(name));
        Assert.True(obj.IsLoaded);
    }

    /// <summary>/sys/kernel/btf/vmlinux present but empty (what a bind-mounted empty file gives).</summary>
    private sealed class EmptyVmlinux : IDisposable
    {
        private readonly string _previous = KernelBtf.VmlinuxLocation;
        public EmptyVmlinux(string dir)
        {
            string path = Path.Combine(dir, "empty-vmlinux");
            File.WriteAllBytes(path, Array.Empty<byte>());
            KernelBtf.VmlinuxLocation = path;
        }
        public void Dispose() => KernelBtf.VmlinuxLocation = _previous;
    }

    /// <summary>
    /// An empty vmlinux: the loader takes the minimized BTF named after this kernel's release from
    /// <see cref="BpfObjectOptions.KernelBtfDirectory"/>, and the program attaches; TargetBtfPath still wins.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEmptyVmlinuxTakesTheMinimizedBtfOfThisRelease(bool gzip)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        TestEnvironment.RequireTracefs();
        string dir = TestEnvironment.TempDir("ebpf-minbtf");
        try
        {
            var spec = Ebpf.Objects.BpfObjectSpec.Parse(File.ReadAllBytes(TestEnvironment.Bpf("exec_snoop")));
            var minimizer = new Ebpf.Core.CoreBtfMinimizer(KernelBtf.Vmlinux, KernelInfo.Release);
            minimizer.Add(spec);
            var bytes = minimizer.Build().Bytes;
            string path = Path.Combine(dir, KernelInfo.Release + (gzip ? ".btf.gz" : ".btf"));
            File.WriteAllBytes(path, gzip ? Gzip.Compress(bytes) : bytes);
            File.WriteAllBytes(Path.Combine(dir, "1.2.3-other.btf"), bytes);
            using var _ = new EmptyVmlinux(dir);
            Assert.Equal("empty", KernelBtf.VmlinuxProblem());
            using var obj = BpfObject.Open(TestEnvironment.Bpf("exec_snoop"), new BpfObjectOptions { KernelBtfDirectory = dir });
            obj.Load();
            obj.Attach();
            Assert.NotEmpty(obj.Links);
            obj.Detach();

            // An explicit TargetBtfPath wins over the directory (here: a BTF file that is not valid).
            string bad = Path.Combine(dir, "bad.btf");
            File.WriteAllBytes(bad, new byte[] { 1, 2, 3, 4 });
            using var explicitFile = BpfObject.Open(TestEnvironment.Bpf("exec_snoop"), new BpfObjectOptions { KernelBtfDirectory = dir, TargetBtfPath = bad });
            var e = Assert.Throws<BpfEnvironmentException>(explicitFile.Load);
            Assert.Contains(bad, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A directory laid out as the build embeds (<c>DIR/ARCH/RELEASE.btf[.gz]</c>, one directory for several
    /// architectures): this process's architecture's file comes first, before <c>DIR/RELEASE.btf</c>.
    /// </summary>
    [Fact]
    public void TheDirectoryOfThisArchitectureComesFirst()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        TestEnvironment.RequireTracefs();
        string arch = KernelBtf.Architecture ?? throw new InvalidOperationException("not an x64 or arm64 process");
        string dir = TestEnvironment.TempDir("ebpf-minbtf");
        try
        {
            var spec = Ebpf.Objects.BpfObjectSpec.Parse(File.ReadAllBytes(TestEnvironment.Bpf("exec_snoop")));
            var minimizer = new Ebpf.Core.CoreBtfMinimizer(KernelBtf.Vmlinux, KernelInfo.Release);
            minimizer.Add(spec);
            Directory.CreateDirectory(Path.Combine(dir, arch));
            File.WriteAllBytes(Path.Combine(dir, arch, KernelInfo.Release + ".btf.gz"), Gzip.Compress(minimizer.Build().Bytes));
            File.WriteAllBytes(Path.Combine(dir, KernelInfo.Release + ".btf"), new byte[] { 1, 2, 3, 4 });   // not taken
            Assert.Equal(Path.Combine(dir, arch, KernelInfo.Release + ".btf"), KernelBtf.DirectoryCandidates(dir, KernelInfo.Release, arch).First());
            using var _ = new EmptyVmlinux(dir);
            using var obj = BpfObject.Open(TestEnvironment.Bpf("exec_snoop"), new BpfObjectOptions { KernelBtfDirectory = dir });
            obj.Load();
            obj.Attach();
            Assert.NotEmpty(obj.Links);
            obj.Detach();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// An object opened from an assembly's resources (as a skeleton opens its own) on a kernel without BTF, when the
    /// assembly embeds none for this release: the error lists the releases embedded for this architecture (and those
    /// without one), then those for the other architecture; nothing is loaded.
    /// </summary>
    [Fact]
    public void TheErrorListsTheEmbeddedReleasesByArchitecture()
    {
        TestEnvironment.RequireRoot();
        string arch = KernelBtf.Architecture ?? throw new InvalidOperationException("not an x64 or arm64 process");
        string other = arch == "x64" ? "arm64" : "x64";
        var assembly = typeof(NoKernelBtfTests).Assembly;
        Assert.Equal(new[] { "0.0.1-any", $"0.0.{(arch == "x64" ? 2 : 3)}-{arch}only" }, KernelBtf.EmbeddedReleases(assembly));
        string dir = TestEnvironment.TempDir("ebpf-minbtf");
        try
        {
            using var _ = new EmptyVmlinux(dir);
            using var obj = BpfObject.OpenResource(assembly, "ebpf/exec_snoop.bpf.o", "exec_snoop");
            var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
            Assert.Contains($"this kernel ({KernelInfo.Release}, {arch}) has no BTF", e.Message, StringComparison.Ordinal);
            Assert.Contains($"embedded in {assembly.GetName().Name}: 0.0.1-any, 0.0.{(arch == "x64" ? 2 : 3)}-{arch}only; for other architectures: 0.0.{(arch == "x64" ? 3 : 2)}-{other}only ({other})", e.Message, StringComparison.Ordinal);
            Assert.False(obj.IsLoaded);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>No BTF for this release: the error names the release and lists the ones there are; nothing is loaded.</summary>
    [Fact]
    public void NoBtfForThisReleaseListsTheReleasesThereAre()
    {
        TestEnvironment.RequireRoot();
        string dir = TestEnvironment.TempDir("ebpf-minbtf");
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "1.2.3-other.btf.gz"), Gzip.Compress(new byte[] { 0 }));
            File.WriteAllBytes(Path.Combine(dir, "4.5.6-another.btf"), new byte[] { 0 });
            using var _ = new EmptyVmlinux(dir);
            using var obj = BpfObject.Open(TestEnvironment.Bpf("exec_snoop"), new BpfObjectOptions { KernelBtfDirectory = dir });
            var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
            Assert.Contains($"this kernel ({KernelInfo.Release}, {KernelBtf.Architecture}) has no BTF", e.Message, StringComparison.Ordinal);
            Assert.Contains("is empty", e.Message, StringComparison.Ordinal);
            Assert.Contains("1.2.3-other, 4.5.6-another", e.Message, StringComparison.Ordinal);
            Assert.Contains("Embed=\"true\"", e.Message, StringComparison.Ordinal);
            Assert.False(obj.IsLoaded);
            Assert.Empty(obj.Links);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
