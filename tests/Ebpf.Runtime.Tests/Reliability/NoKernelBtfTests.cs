using System;
using System.IO;
using System.IO.Compression;
using Ebpf.Loader;
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
    [InlineData("externs")]        // typed ksyms resolved by BTF
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
    [InlineData("externs", false)]
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
            obj.Load();
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
}
