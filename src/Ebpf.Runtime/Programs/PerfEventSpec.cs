using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>perf_event_attr.type.</summary>
public enum PerfEventType : uint
{
    Hardware = 0,
    Software = 1,
    Tracepoint = 2,
    HardwareCache = 3,
    Raw = 4,
    Breakpoint = 5,
}

/// <summary>PERF_COUNT_HW_* configs.</summary>
public enum PerfHardwareEvent : ulong
{
    CpuCycles = 0,
    Instructions = 1,
    CacheReferences = 2,
    CacheMisses = 3,
    BranchInstructions = 4,
    BranchMisses = 5,
    BusCycles = 6,
    RefCpuCycles = 9,
}

/// <summary>PERF_COUNT_SW_* configs.</summary>
public enum PerfSoftwareEvent : ulong
{
    CpuClock = 0,
    TaskClock = 1,
    PageFaults = 2,
    ContextSwitches = 3,
    CpuMigrations = 4,
    PageFaultsMin = 5,
    PageFaultsMaj = 6,
    AlignmentFaults = 7,
    EmulationFaults = 8,
    Dummy = 9,
    BpfOutput = 10,
}

/// <summary>HW_BREAKPOINT_* access kinds.</summary>
[Flags]
public enum BreakpointKind : uint
{
    Read = 1,
    Write = 2,
    ReadWrite = 3,
    Execute = 4,
}

/// <summary>
/// A sampling perf event for <see cref="PerfEventProgram"/>: type and config, and either a sample period (every
/// N events) or a frequency (N samples per second).
/// </summary>
public readonly struct PerfEventSpec
{
    public PerfEventSpec(PerfEventType type, ulong config, ulong samplePeriod = 0, ulong sampleFrequency = 0)
    {
        if (samplePeriod != 0 && sampleFrequency != 0)
            throw new ArgumentException("give a sample period or a sample frequency, not both");
        Type = type;
        Config = config;
        SamplePeriod = samplePeriod;
        SampleFrequency = sampleFrequency;
        BreakpointAddress = 0;
        BreakpointLength = 0;
        BreakpointKind = 0;
        ExcludeKernel = false;
        ExcludeUser = false;
    }

    public PerfEventType Type { get; init; }
    public ulong Config { get; init; }
    /// <summary>Sample every N events (0: use <see cref="SampleFrequency"/>).</summary>
    public ulong SamplePeriod { get; init; }
    /// <summary>Samples per second (the kernel adjusts the period).</summary>
    public ulong SampleFrequency { get; init; }
    public ulong BreakpointAddress { get; init; }
    public ulong BreakpointLength { get; init; }
    public BreakpointKind BreakpointKind { get; init; }
    public bool ExcludeKernel { get; init; }
    public bool ExcludeUser { get; init; }

    /// <summary>A software event sampled every <paramref name="period"/> occurrences.</summary>
    public static PerfEventSpec Software(PerfSoftwareEvent ev, ulong period) => new PerfEventSpec(PerfEventType.Software, (ulong)ev, samplePeriod: period);
    /// <summary>The cpu-clock timer sampled <paramref name="frequency"/> times a second (what `perf record -F` uses without PMU).</summary>
    public static PerfEventSpec CpuClock(ulong frequency) => new PerfEventSpec(PerfEventType.Software, (ulong)PerfSoftwareEvent.CpuClock, sampleFrequency: frequency);
    /// <summary>A hardware event sampled every <paramref name="period"/> occurrences.</summary>
    public static PerfEventSpec Hardware(PerfHardwareEvent ev, ulong period) => new PerfEventSpec(PerfEventType.Hardware, (ulong)ev, samplePeriod: period);
    /// <summary>A hardware breakpoint (watchpoint) at <paramref name="address"/>: one sample per access.</summary>
    public static PerfEventSpec Breakpoint(ulong address, BreakpointKind kind, int length = 8) =>
        new PerfEventSpec(PerfEventType.Breakpoint, 0, samplePeriod: 1) { BreakpointAddress = address, BreakpointKind = kind, BreakpointLength = (ulong)length };

    internal unsafe PerfEventAttr ToAttr()
    {
        var a = new PerfEventAttr
        {
            Type = (uint)Type,
            Size = (uint)sizeof(PerfEventAttr),
            Config = Config,
            SamplePeriodOrFreq = SampleFrequency != 0 ? SampleFrequency : SamplePeriod == 0 ? 1 : SamplePeriod,
        };
        if (SampleFrequency != 0) a.Flags |= PerfEventAttr.FlagFreq;
        if (ExcludeUser) a.Flags |= 1UL << 4;   // exclude_user
        if (ExcludeKernel) a.Flags |= 1UL << 5; // exclude_kernel
        if (Type == PerfEventType.Breakpoint)
        {
            a.BpType = (uint)BreakpointKind;
            a.Config1 = BreakpointAddress;
            a.Config2 = BreakpointLength;
        }
        return a;
    }

    public override string ToString() => Type switch
    {
        PerfEventType.Software => $"software {(PerfSoftwareEvent)Config}",
        PerfEventType.Hardware => $"hardware {(PerfHardwareEvent)Config}",
        PerfEventType.Breakpoint => $"breakpoint {BreakpointKind} at 0x{BreakpointAddress:x}",
        _ => $"{Type} 0x{Config:x}",
    } + (SampleFrequency != 0 ? $" at {SampleFrequency} Hz" : $" every {(SamplePeriod == 0 ? 1 : SamplePeriod)}");
}
