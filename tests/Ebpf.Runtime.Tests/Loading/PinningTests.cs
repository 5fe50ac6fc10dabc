using System;
using System.IO;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>LIBBPF_PIN_BY_NAME maps: pinned on first load, reused when compatible, refused when not.</summary>
[Collection(FdAccountingCollection.Name)]
public class PinningTests
{
    private static string PinRoot()
    {
        TestEnvironment.RequireBpffs();
        string dir = "/sys/fs/bpf/ebpf-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void PinnedMapIsReusedByTheNextObject()
    {
        string root = PinRoot();
        try
        {
            uint id;
            using (var a = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root }))
            {
                a.Load();
                var m = a.GetMap("pinned_map");
                Assert.Equal(root + "/pinned_map", m.PinPath);
                Assert.True(File.Exists(root + "/pinned_map"));
                id = m.Id;
                m.Update(BitConverter.GetBytes(7u), BitConverter.GetBytes(77ul));
            }
            // The pin keeps the map alive; the next object reuses it, contents included.
            using var b = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root });
            b.Load();
            var m2 = b.GetMap("pinned_map");
            Assert.Equal(id, m2.Id);
            var value = new byte[8];
            Assert.True(m2.TryLookup(BitConverter.GetBytes(7u), value));
            Assert.Equal(77ul, BitConverter.ToUInt64(value));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void IncompatiblePinnedMapIsRefusedWithTheDifference()
    {
        string root = PinRoot();
        try
        {
            using (var a = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root }))
                a.Load();
            using var b = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root });
            b.GetMap("pinned_map").MaxEntries = 99;
            int before = TestEnvironment.BaselineFdCount();
            var e = Assert.Throws<BpfException>(b.Load);
            Assert.Contains("incompatible", e.Message);
            Assert.Contains("max_entries", e.Message);
            Assert.Contains(root + "/pinned_map", e.Message);
            Assert.Equal(before, TestEnvironment.OpenFdCount());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void PinRootOutsideBpffsIsExplained()
    {
        TestEnvironment.RequireRoot();
        string dir = TestEnvironment.TempDir();
        try
        {
            using var obj = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = dir });
            var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
            Assert.Contains("not on a bpf filesystem", e.Message);
            Assert.Contains("mount -t bpf", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
