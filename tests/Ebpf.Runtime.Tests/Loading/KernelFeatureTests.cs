using System;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// Features newer than some supported kernels, each in an object of its own: they load and compute what their
/// sources say where the kernel has them; where it does not, the load fails with a
/// <see cref="BpfNotSupportedException"/> that names the feature and the first Linux release with it (never a bare
/// EINVAL or the verifier's "reserved fields"), and the test skips with that reason.
/// </summary>
public class KernelFeatureTests
{
    private static ulong Global(BpfObject obj, string name) => Ebpf.Runtime.Tests.Attach.AttachSupport.Global<ulong>(obj, name);

    [Fact]
    public void AtomicFetchOperationsRunOrAreNamedWithTheirRelease()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("atomics"));
        try
        {
            obj.Load();
        }
        catch (BpfNotSupportedException e)
        {
            Assert.False(KernelFeatures.Current.AtomicFetch);
            Assert.Contains("atomic fetch operations", e.Message);
            Assert.Contains("5.12", e.Message);
            Assert.Contains("prog 'apply'", e.Message);
            Assert.DoesNotContain("reserved fields", e.Message);
            Assert.Skip(e.Message);
        }
        Assert.True(KernelFeatures.Current.AtomicFetch);
        Assert.Equal(8u, obj.GetProgram("apply").RunOnce().ReturnValue);
        var fetched = obj.GetDataSection(".bss");
        int at = (int)fetched.FindVariable("fetched")!.Offset;
        Assert.Equal(new ulong[] { 10, 0x0f, 0xff, 0x0f, 1, 7, 3 }, Enumerable.Range(0, 7).Select(i => fetched.Read<ulong>(at + 8 * i)).ToArray());
        Assert.Equal(15ul, Global(obj, "add64"));
        Assert.Equal(0xfful, Global(obj, "or64"));
        Assert.Equal(0x0ful, Global(obj, "and64"));
        Assert.Equal(0xf0ul, Global(obj, "xor64"));
        Assert.Equal(99ul, Global(obj, "xchg64"));
        Assert.Equal(8ul, Global(obj, "cmpxchg64"));
        Assert.Equal(3u, Ebpf.Runtime.Tests.Attach.AttachSupport.Global<uint>(obj, "cmpxchg32"));
        Assert.Equal(2u, Ebpf.Runtime.Tests.Attach.AttachSupport.Global<uint>(obj, "plain32"));
    }

    /// <summary>bpf-to-bpf calls: static, global (verified on its own) and shared subprograms, and a bounded loop.</summary>
    [Fact]
    public void SubprogramCallsComputeWhatTheSourceSays()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Load(TestEnvironment.Bpf("calls"));
        Assert.Equal(140u, obj.GetProgram("calls_a").RunOnce().ReturnValue);
        Assert.Equal(45ul, Global(obj, "result_a"));
        Assert.Equal(297u, obj.GetProgram("calls_b").RunOnce().ReturnValue);
        Assert.Equal(21ul, Global(obj, "result_b"));
    }

    /// <summary>Callbacks: bpf_loop (Linux 5.17) and bpf_for_each_map_elem (5.13).</summary>
    [Fact]
    public void CallbacksRunOrTheMissingHelperIsNamed()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("callbacks"));
        try
        {
            obj.Load();
        }
        catch (BpfNotSupportedException e)
        {
            // before 5.13: callback functions themselves; 5.13 to 5.16: the helper bpf_loop
            Assert.Matches(@"(callback functions .*needs Linux 5\.13|helper bpf_loop \(#181\) \(needs Linux 5\.17) or later", e.Message);
            Assert.Skip(e.Message);
        }
        Assert.Equal(45u, obj.GetProgram("loop_sum").RunOnce().ReturnValue);
        Assert.Equal(45ul, Global(obj, "result_loop"));
        Assert.Equal(21u, obj.GetProgram("map_max").RunOnce().ReturnValue);
        Assert.Equal(21ul, Global(obj, "result_max"));
        Assert.Equal(8ul, Global(obj, "visited"));
    }

    [Fact]
    public void InstructionSetExtensionsAreFoundInTheObjects()
    {
        using var atomics = BpfObject.Open(TestEnvironment.Bpf("atomics"));
        var needs = KernelFeatures.InstructionSetNeeds(atomics.GetProgram("apply").Spec!.Function.Instructions);
        Assert.True(needs.ContainsKey(KernelFeatures.InstructionSetFeature.AtomicFetch));
        Assert.Equal("5.12", KernelFeatures.MinimumKernel(KernelFeatures.InstructionSetFeature.AtomicFetch));
        // Every other object sticks to what its oldest kernel takes: plain atomic adds only, no v4 instructions.
        foreach (var path in TestEnvironment.AllBpfObjects().Where(p => p.EndsWith(".bpf.o", StringComparison.Ordinal) && !p.EndsWith("atomics.bpf.o", StringComparison.Ordinal)))
        {
            using var obj = BpfObject.Open(path);
            foreach (var p in obj.Programs)
            {
                var n = KernelFeatures.InstructionSetNeeds(p.Spec!.Function.Instructions);
                Assert.False(n.ContainsKey(KernelFeatures.InstructionSetFeature.AtomicFetch), $"{path}: prog '{p.Name}' uses atomic fetch operations (5.12)");
                Assert.False(n.ContainsKey(KernelFeatures.InstructionSetFeature.CpuV4), $"{path}: prog '{p.Name}' uses v4 instructions (6.6)");
            }
        }
    }

    [Theory]
    [InlineData(BpfHelper.MapLookupElem, "3.19")]
    [InlineData(BpfHelper.ProbeReadKernel, "5.5")]
    [InlineData(BpfHelper.RingbufOutput, "5.8")]
    [InlineData(BpfHelper.KtimeGetCoarseNs, "5.11")]
    [InlineData(BpfHelper.ForEachMapElem, "5.13")]
    [InlineData(BpfHelper.GetAttachCookie, "5.15")]
    [InlineData(BpfHelper.Loop, "5.17")]
    [InlineData(BpfHelper.CgrpStorageDelete, "6.2")]
    public void HelpersAreDatedByTheReleaseThatAddedThem(BpfHelper helper, string release)
    {
        Assert.Equal(release, KernelFeatures.MinimumKernel((int)helper));
    }

    [Theory]
    [InlineData(BpfProgramType.Syscall, "5.14", "BPF_PROG_TYPE_SYSCALL")]
    [InlineData(BpfProgramType.SkLookup, "5.9", "BPF_PROG_TYPE_SK_LOOKUP")]
    [InlineData(BpfProgramType.LwtSeg6Local, "4.18", "BPF_PROG_TYPE_LWT_SEG6LOCAL")]
    public void ProgramTypesAreNamedAndDated(BpfProgramType type, string release, string kernelName)
    {
        Assert.Equal(release, KernelFeatures.MinimumKernel(type));
        Assert.Contains(kernelName, KernelFeatures.ProgramTypeFeature(type));
    }

    [Theory]
    [InlineData(BpfMapType.BloomFilter, "5.16", "BPF_MAP_TYPE_BLOOM_FILTER")]
    [InlineData(BpfMapType.Ringbuf, "5.8", "BPF_MAP_TYPE_RINGBUF")]
    [InlineData(BpfMapType.LruPercpuHash, "4.10", "BPF_MAP_TYPE_LRU_PERCPU_HASH")]
    public void MapTypesAreNamedAndDated(BpfMapType type, string release, string kernelName)
    {
        Assert.Equal(release, KernelFeatures.MinimumKernel(type));
        Assert.Equal(kernelName, KernelFeatures.KernelName("BPF_MAP_TYPE_", type.ToString()));
    }
}
