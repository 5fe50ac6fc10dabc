using System.Collections.Generic;
using System.IO;
using BenchmarkDotNet.Attributes;
using Ebpf.Btf;
using Ebpf.Kernel;

namespace Ebpf.Benchmarks.Micro;

/// <summary>Parsing the running kernel's BTF and looking names up in it.</summary>
[MemoryDiagnoser]
public class BtfBenchmarks
{
    private byte[] _vmlinux = null!;
    private BtfSpec _indexed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _vmlinux = File.ReadAllBytes(KernelBtf.VmlinuxPath);
        _indexed = BtfSpec.Parse(_vmlinux);
        _indexed.FindByName("task_struct"); // past the linear-scan budget: builds the index
        for (int i = 0; i < 10; i++) _indexed.FindByName("pt_regs");
    }

    /// <summary>What the loader does: map /sys/kernel/btf/vmlinux (read it on kernels before 6.16) and index every type.</summary>
    [Benchmark(Description = "parse vmlinux from sysfs (mmap + scan)")]
    public int ParseFromSysfs()
    {
        var spec = KernelBtf.LoadRaw(KernelBtf.VmlinuxPath, missingHint: true, baseSpec: null, out var mapping);
        int n = spec.TypeCount;
        mapping?.Dispose();
        return n;
    }

    /// <summary>The path of kernels before 6.16, which refuse to map /sys/kernel/btf/vmlinux: read(2) into native memory, then scan.</summary>
    [Benchmark(Description = "parse vmlinux from sysfs (read + scan, pre-6.16 path)")]
    public int ParseFromSysfsRead()
    {
        var spec = KernelBtf.LoadRaw(KernelBtf.VmlinuxPath, missingHint: true, baseSpec: null, out var owner, allowMap: false);
        int n = spec.TypeCount;
        owner?.Dispose();
        return n;
    }

    /// <summary>The scan alone, from bytes already in memory.</summary>
    [Benchmark(Description = "parse vmlinux from a byte[] (scan only)")]
    public int ParseFromMemory() => BtfSpec.Parse(_vmlinux).TypeCount;

    /// <summary>A first lookup on a fresh spec: one linear pass over the names (libbpf's btf__find_by_name_kind does this every time).</summary>
    [Benchmark(Description = "first FindByName on a fresh spec (linear)")]
    public int FirstLookup() => BtfSpec.Parse(_vmlinux).FindByName("task_struct", BtfKind.Struct);

    /// <summary>Lookups once the name index exists (after 8 lookups).</summary>
    [Benchmark(Description = "FindByName with the name index")]
    public int IndexedLookup() => _indexed.FindByName("task_struct", BtfKind.Struct);

    /// <summary>Building the name index from scratch (what the 9th lookup on a spec pays).</summary>
    [Benchmark(Description = "parse + 9 lookups (index built)")]
    public int NineLookups()
    {
        var s = BtfSpec.Parse(_vmlinux);
        int r = 0;
        for (int i = 0; i < 9; i++) r += s.FindByName("task_struct", BtfKind.Struct);
        return r;
    }
}
