using System.Runtime.InteropServices;

namespace Ebpf.Kernel;

/// <summary>struct perf_event_attr (PERF_ATTR_SIZE_VER8, 136 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
internal struct PerfEventAttr
{
    public const uint TypeHardware = 0, TypeSoftware = 1, TypeTracepoint = 2, TypeHwCache = 3, TypeRaw = 4, TypeBreakpoint = 5;

    [FieldOffset(0)] public uint Type;
    [FieldOffset(4)] public uint Size;
    [FieldOffset(8)] public ulong Config;
    [FieldOffset(16)] public ulong SamplePeriodOrFreq;
    [FieldOffset(24)] public ulong SampleType;
    [FieldOffset(32)] public ulong ReadFormat;
    /// <summary>The bitfield word: disabled (bit 0), inherit (1), ..., freq (10), ..., watermark (14), precise_ip (15-16), ...</summary>
    [FieldOffset(40)] public ulong Flags;
    [FieldOffset(48)] public uint WakeupEventsOrWatermark;
    [FieldOffset(52)] public uint BpType;
    /// <summary>bp_addr / kprobe_func / uprobe_path / config1.</summary>
    [FieldOffset(56)] public ulong Config1;
    /// <summary>bp_len / kprobe_addr / probe_offset / config2.</summary>
    [FieldOffset(64)] public ulong Config2;
    [FieldOffset(72)] public ulong BranchSampleType;
    [FieldOffset(80)] public ulong SampleRegsUser;
    [FieldOffset(88)] public uint SampleStackUser;
    [FieldOffset(92)] public int ClockId;
    [FieldOffset(96)] public ulong SampleRegsIntr;
    [FieldOffset(104)] public uint AuxWatermark;
    [FieldOffset(108)] public ushort SampleMaxStack;
    [FieldOffset(112)] public uint AuxSampleSize;
    [FieldOffset(120)] public ulong SigData;
    [FieldOffset(128)] public ulong Config3;

    public const ulong FlagDisabled = 1UL << 0;
    public const ulong FlagFreq = 1UL << 10;
    public const ulong FlagWatermark = 1UL << 14;

    public const ulong PERF_FLAG_FD_CLOEXEC = 1UL << 3;

    // ioctls ('$' = 0x24)
    public const ulong IocEnable = 0x2400;
    public const ulong IocDisable = 0x2401;
    public const ulong IocSetBpf = 0x40042408;

    public const ulong SampleRaw = 1UL << 10;
    public const uint SoftwareBpfOutput = 10;
    public const uint SoftwareCpuClock = 0;
}
