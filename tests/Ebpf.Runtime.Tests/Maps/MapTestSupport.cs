using System;
using System.IO;
using System.Runtime.InteropServices;
using Ebpf.Btf;
using Ebpf.Kernel;
using Ebpf.Tests;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>maps.bpf.o loaded with a private pin root (its pinned_map is LIBBPF_PIN_BY_NAME), removed on Dispose.</summary>
internal sealed class LoadedMaps : IDisposable
{
    private readonly string _pinRoot;

    private LoadedMaps(BpfObject obj, string pinRoot)
    {
        Object = obj;
        _pinRoot = pinRoot;
    }

    public BpfObject Object { get; }

    public BpfMap this[string name] => Object.GetMap(name);

    /// <summary>Opens bpf/maps.bpf.o, lets <paramref name="configure"/> resize maps, loads it.</summary>
    public static LoadedMaps Load(Action<BpfObject>? configure = null)
    {
        TestEnvironment.RequireBpffs();
        string root = "/sys/fs/bpf/ebpf-maps-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        Directory.CreateDirectory(root);
        BpfObject? obj = null;
        try
        {
            obj = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root });
            configure?.Invoke(obj);
            obj.Load();
            return new LoadedMaps(obj, root);
        }
        catch
        {
            obj?.Dispose();
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Object.Dispose();
        try
        {
            Directory.Delete(_pinRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>struct stats of maps.bpf.c (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Stats
{
    public ulong Calls;
    public ulong Bytes;
    public uint LastTgid;
    public uint Flags;
    public fixed byte Comm[16];
}

/// <summary>struct lpm_v4_key of maps.bpf.c: prefix length in bits, then the address in network order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LpmV4Key
{
    public uint PrefixLen;
    public uint Addr; // the four address bytes as they are in memory

    public static LpmV4Key Of(string cidr)
    {
        var parts = cidr.Split('/');
        var ip = System.Net.IPAddress.Parse(parts[0]).GetAddressBytes();
        return new LpmV4Key { PrefixLen = parts.Length > 1 ? uint.Parse(parts[1]) : 32, Addr = BitConverter.ToUInt32(ip) };
    }
}

/// <summary>A 12-byte value: per-CPU slots are rounded up to 16 bytes by the kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Triple : IEquatable<Triple>
{
    public uint A, B, C;

    public Triple(uint a, uint b, uint c) { A = a; B = b; C = c; }
    public bool Equals(Triple o) => A == o.A && B == o.B && C == o.C;
    public override bool Equals(object? obj) => obj is Triple t && Equals(t);
    public override int GetHashCode() => HashCode.Combine(A, B, C);
    public override string ToString() => $"({A}, {B}, {C})";
}

/// <summary>{ struct bpf_spin_lock lock; __u32 count; }.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LockedValue
{
    public uint Lock;
    public uint Count;
}

internal static unsafe class MapTestSupport
{
    [DllImport("libc", EntryPoint = "getpid")]
    public static extern int GetPid();

    /// <summary>Creates a standalone map (no object), for shapes the test objects do not have.</summary>
    public static BpfMap CreateMap(string name, BpfMapType type, uint keySize, uint valueSize, uint maxEntries, BpfMapFlags flags = BpfMapFlags.None,
        BpfHandle? btf = null, uint btfKeyType = 0, uint btfValueType = 0)
    {
        var sys = Syscalls.Current;
        var attr = new MapCreateAttr
        {
            MapType = (uint)type,
            KeySize = keySize,
            ValueSize = valueSize,
            MaxEntries = maxEntries,
            MapFlags = (uint)flags,
            BtfFd = btf != null ? (uint)btf.Fd : 0,
            BtfKeyTypeId = btfKeyType,
            BtfValueTypeId = btfValueType,
        };
        BpfSys.WriteName(attr.MapName, name);
        var h = BpfSys.MapCreate(sys, ref attr, name);
        return BpfMap.FromHandle(h, sys, null);
    }

    /// <summary>A hash map u32 → { bpf_spin_lock; u32 count } described by BTF, as BPF_F_LOCK needs.</summary>
    public static BpfMap CreateSpinLockHash(string name)
    {
        var b = new BtfBuilder();
        int u32 = b.AddInt("unsigned int", 4);
        int lockType = b.AddStruct("bpf_spin_lock", 4, new BtfBuilder.Member("val", u32, 0));
        int valueType = b.AddStruct("locked_value", 8, new BtfBuilder.Member("lock", lockType, 0), new BtfBuilder.Member("count", u32, 32));
        var bytes = b.Build();
        using var btf = BpfSys.BtfLoad(Syscalls.Current, bytes, Span<byte>.Empty, 0, out int errno);
        if (btf == null) throw new InvalidOperationException($"BTF load failed: errno {errno}");
        return CreateMap(name, BpfMapType.Hash, 4, 8, 16, BpfMapFlags.None, btf, (uint)u32, (uint)valueType);
    }

    /// <summary>A PERF_COUNT_SW_BPF_OUTPUT event on <paramref name="cpu"/>, the kind a perf event array slot holds.</summary>
    public static BpfHandle OpenBpfOutputEvent(int cpu)
    {
        var sys = Syscalls.Current;
        var attr = new PerfEventAttr
        {
            Type = PerfEventAttr.TypeSoftware,
            Size = (uint)sizeof(PerfEventAttr),
            Config = PerfEventAttr.SoftwareBpfOutput,
            SampleType = PerfEventAttr.SampleRaw,
            SamplePeriodOrFreq = 1,
            WakeupEventsOrWatermark = 1,
        };
        int fd = sys.PerfEventOpen(&attr, -1, cpu, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) throw new InvalidOperationException($"perf_event_open(BPF_OUTPUT, cpu {cpu}) failed: {Errno.Name(-fd)}");
        return new BpfHandle(fd, BpfHandleKind.PerfEvent, sys);
    }
}
