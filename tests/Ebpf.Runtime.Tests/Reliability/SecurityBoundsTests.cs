using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// Sizes from the kernel or the object are bounds-checked, and pins stay under the pin root: a kernel that reports
/// absurd verifier-log sizes, an object whose .bss claims gigabytes, map names that would leave the pin root.
/// </summary>
[Collection(FdAccountingCollection.Name)]
public class SecurityBoundsTests
{
    /// <summary>
    /// BPF_PROG_LOAD keeps failing with ENOSPC ("log too small") while reporting log_true_size 2^32-1, 2^31-1, 0 or
    /// less than the buffer: the loader grows the buffer to at most 16 MiB and gives up with a typed error, instead of
    /// overflowing, allocating without bound or retrying forever.
    /// </summary>
    [Theory]
    [InlineData(0xffffffffu)]
    [InlineData(0x7fffffffu)]
    [InlineData(0x7ffffffeu)]
    [InlineData(0u)]
    [InlineData(17u)]
    public async Task LyingVerifierLogSizesAreBounded(uint logTrueSize)
    {
        TestEnvironment.RequireRoot();
        var fake = new FaultInjectingSyscalls();
        var counter = new int[1];
        var task = Task.Run(() =>
        {
            using var _ = Syscalls.Override(fake);
            // Feature probes (cached per seam) first, with an honest kernel; then the lies.
            using (var warm = BpfObject.Load(TestEnvironment.Bpf("globals"))) { }
            fake.Tamper = LyingProgLoad(logTrueSize, counter);
            using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"), new BpfObjectOptions { VerifierLogLevel = 1 });
            long before = GC.GetTotalAllocatedBytes(precise: false);
            var e = Record.Exception(obj.Load);
            return (e, GC.GetTotalAllocatedBytes(precise: false) - before);
        });
        var (error, allocated) = await task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var se = Assert.IsAssignableFrom<BpfSyscallException>(error);
        Assert.Equal(Errno.ENOSPC, se.Errno);
        Assert.True(counter[0] <= 12, $"{counter[0]} BPF_PROG_LOAD attempts");
        Assert.True(allocated < 128L << 20, $"{allocated} bytes allocated for verifier logs");
        Assert.Empty(fake.OpenDescriptors);
    }

    /// <summary>Every BPF_PROG_LOAD "fails" with ENOSPC and reports <paramref name="logTrueSize"/> as the log size it needed.</summary>
    private static unsafe Func<BpfCommand, IntPtr, int, int> LyingProgLoad(uint logTrueSize, int[] counter) => (cmd, attr, result) =>
    {
        if (cmd != BpfCommand.ProgLoad) return result;
        counter[0]++;
        ((ProgLoadAttr*)attr)->LogTrueSize = logTrueSize;
        return -Errno.ENOSPC;
    };

    /// <summary>A .bss (no bytes in the file) claiming 2 GiB is refused when the object is opened, before any buffer is allocated.</summary>
    [Theory]
    [InlineData(0x7ffffff0UL)]
    [InlineData(0xfffffff0UL)]
    [InlineData(0x1_0000_0010UL)]     // would truncate to 16 bytes as a 32-bit value size
    [InlineData(0xffff_ffff_ffff_fff0UL)]
    public void HugeBssIsRefusedBeforeAllocating(ulong size)
    {
        var bytes = File.ReadAllBytes(TestEnvironment.Bpf("globals"));
        var elf = Ebpf.Elf.ElfFile.Parse(bytes);
        var bss = elf.FindSection(".bss") ?? throw new InvalidOperationException("globals has no .bss");
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(58));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((int)shoff + bss.Index * shentsize + 32), size);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BpfObjectFormatException>(() => BpfObject.Open(bytes, "globals"));
        Assert.Contains(".bss", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20);
    }

    /// <summary>Map names that would put a pin outside the pin root ("../../x", "a/b") are refused; nothing is pinned.</summary>
    [Theory]
    [InlineData("../../xmap")]
    [InlineData("pinned/map")]
    [InlineData("/tmp/xmap_")]
    public void PinsByNameStayUnderThePinRoot(string hostileName)
    {
        TestEnvironment.RequireBpffs();
        Assert.Equal("pinned_map".Length, hostileName.Length);
        // maps.bpf.o pins "pinned_map" by name; the name is rewritten in place (symbol and BTF strings alike).
        var bytes = File.ReadAllBytes(TestEnvironment.Bpf("maps"));
        var from = Encoding.ASCII.GetBytes("pinned_map\0");
        var to = Encoding.ASCII.GetBytes(hostileName + "\0");
        int replaced = 0;
        for (int i = 0; i + from.Length <= bytes.Length; i++)
        {
            if (bytes.AsSpan(i, from.Length).SequenceEqual(from))
            {
                to.CopyTo(bytes, i);
                replaced++;
            }
        }
        Assert.True(replaced > 0);
        string root = "/sys/fs/bpf/ebpf-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        Directory.CreateDirectory(root + "/a/b");
        try
        {
            BpfObject obj;
            try
            {
                obj = BpfObject.Open(bytes, "maps", new BpfObjectOptions { PinRoot = root + "/a/b" });
            }
            catch (BpfFormatException)
            {
                return; // refused when opened: fine too
            }
            using (obj)
            {
                var e = Assert.ThrowsAny<BpfException>(obj.Load);
                Assert.Contains("cannot be used as a pin path", e.Message, StringComparison.Ordinal);
            }
            Assert.False(File.Exists(root + "/xmap"));
            Assert.False(File.Exists("/sys/fs/bpf/xmap"));
            Assert.False(File.Exists("/tmp/xmap_"));
            Assert.Empty(Directory.GetFileSystemEntries(root + "/a/b"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
