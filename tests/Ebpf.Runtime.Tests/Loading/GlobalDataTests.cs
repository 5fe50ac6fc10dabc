using System;
using System.Runtime.InteropServices;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>.rodata/.data/.bss/custom sections shared between programs and C#.</summary>
public class GlobalDataTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Stats
    {
        public ulong Calls;
        public ulong Weighted;
        public uint LastPid;
        public uint Pad;
    }

    private static int Off(BpfDataSection s, string name) => (int)(s.FindVariable(name) ?? throw new InvalidOperationException(name)).Offset;

    [Fact]
    public void ProgramWritesAreVisibleThroughTheMappingWithoutASyscall()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"));
        var rodata = obj.GetDataSection(".rodata");
        var bss = obj.GetDataSection(".bss");
        var data = obj.GetDataSection(".data");
        var custom = obj.GetDataSection(".data.custom");

        // Before load, .rodata is ours to set.
        Assert.True(rodata.IsWritable);
        rodata.Write(Off(rodata, "target_pid"), 4242u);
        Assert.Equal(0xC0DEF00Du, rodata.Read<uint>(Off(rodata, "cfg")));
        Assert.Equal(42ul, data.Read<ulong>(Off(data, "data_counter")));
        obj.Load();

        Assert.True(bss.IsMapped);
        Assert.True(data.IsMapped);
        Assert.True(custom.IsMapped);
        ref readonly var stats = ref bss.RefReadOnly<Stats>(Off(bss, "bss_stats"));
        ref ulong calls = ref bss.Ref<ulong>(Off(bss, "bss_calls"));
        Assert.Equal(0ul, calls);

        var run = obj.GetProgram("run");
        for (int i = 1; i <= 3; i++)
        {
            var r = run.RunOnce();
            Assert.Equal(0xC0DEF00Du, r.ReturnValue);
            // The references point at the kernel's memory: they see each increment as it happens.
            Assert.Equal((ulong)i, calls);
            Assert.Equal((ulong)i, stats.Calls);
            Assert.Equal(10ul * (ulong)i, stats.Weighted);
            Assert.Equal(4242u, stats.LastPid);
        }
        Assert.Equal(42ul + 3 * 2, data.Read<ulong>(Off(data, "data_counter")));
        Assert.Equal(7ul + 3 * 5, custom.Read<ulong>(Off(custom, "custom_counter")));

        // C# writes are seen by the program too.
        calls = 100;
        data.Write(Off(data, "data_counter"), 1000ul);
        run.RunOnce();
        Assert.Equal(101ul, calls);
        Assert.Equal(1002ul, data.Read<ulong>(Off(data, "data_counter")));
        // bss_hist[101 % 8] was bumped.
        Assert.Equal(1ul, bss.Read<ulong>(Off(bss, "bss_hist") + 8 * (101 % 8)));

        // Once the object is disposed the sections say so, rather than falling back to the bytes staged before Load.
        obj.Dispose();
        Assert.Throws<ObjectDisposedException>(() => bss.Read<ulong>(Off(bss, "bss_calls")));
        Assert.Throws<ObjectDisposedException>(() => bss.Ref<ulong>(Off(bss, "bss_calls")));
        Assert.Throws<ObjectDisposedException>(() => rodata.AsReadOnlySpan());
        Assert.Throws<ObjectDisposedException>(() => run.TestRun());
    }

    [Fact]
    public void RodataIsFrozenAfterLoad()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"));
        obj.Load();
        var rodata = obj.GetDataSection(".rodata");
        Assert.False(rodata.IsWritable);
        Assert.Throws<InvalidOperationException>(() => rodata.Write(0, 1u));
        Assert.Throws<InvalidOperationException>(() => rodata.AsSpan());
        Assert.Throws<InvalidOperationException>(() => rodata.Ref<uint>(0));
        Assert.Equal(0xC0DEF00Du, rodata.Read<uint>(Off(rodata, "cfg")));
        // The kernel refuses writes to the frozen map from user space.
        var key = new byte[4];
        var value = new byte[rodata.Size];
        var e = Assert.Throws<BpfSyscallException>(() => rodata.Map.Update(key, value));
        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Contains("frozen", e.Message);
        Assert.Throws<InvalidOperationException>(() => obj.GetDataSection(".rodata.custom").Write(0, 1u));
    }

    [Fact]
    public void RodataSetBeforeLoadChangesProgramBehaviour()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"));
        var rodata = obj.GetDataSection(".rodata");
        // cfg.step = 9 (struct config { u32 magic; u32 step; ... })
        rodata.Write(Off(rodata, "cfg") + 4, 9u);
        obj.GetDataSection(".rodata.custom").Write(0, 11u);
        obj.Load();
        obj.GetProgram("run").RunOnce();
        Assert.Equal(42ul + 9, obj.GetDataSection(".data").Read<ulong>(0));
        Assert.Equal(7ul + 11, obj.GetDataSection(".data.custom").Read<ulong>(0));
    }

    [Fact]
    public void BssCanBeResizedBeforeLoad()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"));
        var bss = obj.GetDataSection(".bss");
        int old = bss.Size;
        bss.Resize(old + 64);
        obj.Load();
        Assert.Equal(old + 64, bss.Size);
        Assert.Equal((uint)(old + 64), bss.Map.ValueSize);
        obj.GetProgram("run").RunOnce();
        Assert.Equal(1ul, bss.Read<ulong>(0));
        bss.Write(old + 56, 7ul);
        Assert.Equal(7ul, bss.Read<ulong>(old + 56));
        Assert.Throws<InvalidOperationException>(() => bss.Resize(8));
    }

    [Fact]
    public void KconfigIsReadOnlyAndNotMappedWritable()
    {
        TestEnvironment.RequireRoot();
        ExternTests.RequireKernelConfig();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs"));
        var kconfig = obj.GetDataSection(".kconfig");
        Assert.False(kconfig.IsWritable);
        Assert.Throws<InvalidOperationException>(() => kconfig.Write(0, 1));
        obj.Load();
        Assert.Throws<InvalidOperationException>(() => kconfig.Write(0, 1));
        Assert.True(kconfig.Size > 0);
    }
}
