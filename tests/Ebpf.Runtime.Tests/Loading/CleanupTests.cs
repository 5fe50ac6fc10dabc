using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>No descriptor or mapping survives Dispose or a failed load.</summary>
[Collection(FdAccountingCollection.Name)]
public class CleanupTests
{
    [Fact]
    public void ManyLoadDisposeCyclesLeaveNoDescriptor()
    {
        TestEnvironment.RequireRoot();
        // Warm up caches (kernel BTF mapping, feature probes) that live for the process.
        using (var warm = BpfObject.Load(TestEnvironment.Bpf("exec_snoop"))) { }
        int before = TestEnvironment.BaselineFdCount();
        for (int i = 0; i < 50; i++)
        {
            using var a = BpfObject.Load(TestEnvironment.Bpf("globals"));
            using var b = BpfObject.Load(TestEnvironment.Bpf("exec_snoop"));
            using var c = BpfObject.Load(TestEnvironment.Bpf("map_in_map"));
            a.GetProgram("run").RunOnce();
        }
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void FailedLoadsCloseEverythingTheyCreated()
    {
        TestEnvironment.RequireRoot();
        using (var warm = BpfObject.Load(TestEnvironment.Bpf("calls"))) { }
        int before = TestEnvironment.BaselineFdCount();
        for (int i = 0; i < 20; i++)
        {
            using var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
            Assert.Throws<BpfVerifierException>(obj.Load);
            Assert.False(obj.IsLoaded);
            foreach (var m in obj.Maps) Assert.False(m.IsLoaded);
        }
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void DisposeClosesMapsProgramsAndMappings()
    {
        TestEnvironment.RequireRoot();
        var obj = BpfObject.Load(TestEnvironment.Bpf("globals"));
        var bss = obj.GetDataSection(".bss");
        Assert.True(bss.IsMapped);
        var map = obj.GetMap("globals.bss");
        obj.Dispose();
        Assert.True(obj.IsDisposed);
        Assert.False(map.IsLoaded);
        Assert.False(obj.GetProgram("run").IsLoaded);
        Assert.Throws<ObjectDisposedException>(obj.Load);
        obj.Dispose();
    }
}
