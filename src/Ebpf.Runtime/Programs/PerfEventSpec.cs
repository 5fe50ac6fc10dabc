using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>The kind of perf event (perf_event_attr.type): it says how <see cref="PerfEventSpec.Config"/> is read.</summary>
public enum PerfEventType : uint
{
    /// <summary>A generic CPU hardware counter (PERF_TYPE_HARDWARE); the config is a <see cref="PerfHardwareEvent"/>. Needs a PMU, which most virtual machines lack.</summary>
    Hardware = 0,
    /// <summary>A counter the kernel keeps in software (PERF_TYPE_SOFTWARE); the config is a <see cref="PerfSoftwareEvent"/>. Available everywhere.</summary>
    Software = 1,
    /// <summary>A tracefs tracepoint (PERF_TYPE_TRACEPOINT); the config is the tracepoint's id from tracefs.</summary>
    Tracepoint = 2,
    /// <summary>A hardware cache event (PERF_TYPE_HW_CACHE); the config encodes cache id, operation and result.</summary>
    HardwareCache = 3,
    /// <summary>A model-specific raw PMU event (PERF_TYPE_RAW); the config is the CPU's own event code.</summary>
    Raw = 4,
    /// <summary>A hardware breakpoint or watchpoint (PERF_TYPE_BREAKPOINT); see <see cref="PerfEventSpec.Breakpoint"/>.</summary>
    Breakpoint = 5,
}

/// <summary>The generic hardware counters (PERF_COUNT_HW_*), the config of a <see cref="PerfEventType.Hardware"/> event.</summary>
public enum PerfHardwareEvent : ulong
{
    /// <summary>CPU cycles (PERF_COUNT_HW_CPU_CYCLES); the count moves with frequency scaling.</summary>
    CpuCycles = 0,
    /// <summary>Retired instructions (PERF_COUNT_HW_INSTRUCTIONS).</summary>
    Instructions = 1,
    /// <summary>Cache accesses, usually of the last-level cache (PERF_COUNT_HW_CACHE_REFERENCES).</summary>
    CacheReferences = 2,
    /// <summary>Cache misses, usually of the last-level cache (PERF_COUNT_HW_CACHE_MISSES).</summary>
    CacheMisses = 3,
    /// <summary>Retired branch instructions (PERF_COUNT_HW_BRANCH_INSTRUCTIONS).</summary>
    BranchInstructions = 4,
    /// <summary>Mispredicted branches (PERF_COUNT_HW_BRANCH_MISSES).</summary>
    BranchMisses = 5,
    /// <summary>Bus cycles (PERF_COUNT_HW_BUS_CYCLES), which can differ from CPU cycles.</summary>
    BusCycles = 6,
    /// <summary>CPU cycles not affected by frequency scaling (PERF_COUNT_HW_REF_CPU_CYCLES).</summary>
    RefCpuCycles = 9,
}

/// <summary>The software counters (PERF_COUNT_SW_*), the config of a <see cref="PerfEventType.Software"/> event.</summary>
public enum PerfSoftwareEvent : ulong
{
    /// <summary>A per-CPU high-resolution timer, counted in nanoseconds (PERF_COUNT_SW_CPU_CLOCK): the usual clock for sampling profilers.</summary>
    CpuClock = 0,
    /// <summary>A clock that runs only while the measured task runs, in nanoseconds (PERF_COUNT_SW_TASK_CLOCK).</summary>
    TaskClock = 1,
    /// <summary>Page faults, minor and major (PERF_COUNT_SW_PAGE_FAULTS).</summary>
    PageFaults = 2,
    /// <summary>Context switches (PERF_COUNT_SW_CONTEXT_SWITCHES).</summary>
    ContextSwitches = 3,
    /// <summary>Moves of a task to another CPU (PERF_COUNT_SW_CPU_MIGRATIONS).</summary>
    CpuMigrations = 4,
    /// <summary>Minor page faults, served without I/O (PERF_COUNT_SW_PAGE_FAULTS_MIN).</summary>
    PageFaultsMin = 5,
    /// <summary>Major page faults, which needed I/O (PERF_COUNT_SW_PAGE_FAULTS_MAJ).</summary>
    PageFaultsMaj = 6,
    /// <summary>Unaligned accesses the kernel fixed up (PERF_COUNT_SW_ALIGNMENT_FAULTS); 0 on x86.</summary>
    AlignmentFaults = 7,
    /// <summary>Unimplemented instructions the kernel emulated (PERF_COUNT_SW_EMULATION_FAULTS).</summary>
    EmulationFaults = 8,
    /// <summary>An event that never counts (PERF_COUNT_SW_DUMMY): a carrier for side-band records.</summary>
    Dummy = 9,
    /// <summary>The event bpf_perf_event_output writes to (PERF_COUNT_SW_BPF_OUTPUT), as in a perf event array.</summary>
    BpfOutput = 10,
}

/// <summary>The accesses a hardware breakpoint fires on (HW_BREAKPOINT_*).</summary>
[Flags]
public enum BreakpointKind : uint
{
    /// <summary>A load from the watched address (HW_BREAKPOINT_R); x86 has no read-only watchpoint, use <see cref="ReadWrite"/> there.</summary>
    Read = 1,
    /// <summary>A store to the watched address (HW_BREAKPOINT_W).</summary>
    Write = 2,
    /// <summary>A load or a store (HW_BREAKPOINT_RW).</summary>
    ReadWrite = 3,
    /// <summary>Execution of the instruction at the address (HW_BREAKPOINT_X); the length must then be the size of a long.</summary>
    Execute = 4,
}

/// <summary>
/// A sampling perf event for <see cref="PerfEventProgram"/>: type and config, and either a sample period (every
/// N events) or a frequency (N samples per second).
/// </summary>
public readonly struct PerfEventSpec
{
    /// <summary>A perf event of <paramref name="type"/> and <paramref name="config"/>, sampled by period or by frequency.</summary>
    /// <param name="type">The event's kind; it says how <paramref name="config"/> is read.</param>
    /// <param name="config">The event within its kind: a <see cref="PerfHardwareEvent"/>, a <see cref="PerfSoftwareEvent"/>, a tracepoint id, a raw PMU code.</param>
    /// <param name="samplePeriod">Take a sample every this many events (0 with a frequency of 0: every event).</param>
    /// <param name="sampleFrequency">Take this many samples per second instead (the kernel adjusts the period); 0 to sample by period.</param>
    /// <exception cref="ArgumentException">Both a period and a frequency were given.</exception>
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

    /// <summary>The event's kind (perf_event_attr.type).</summary>
    public PerfEventType Type { get; init; }
    /// <summary>The event within its kind (perf_event_attr.config): a <see cref="PerfHardwareEvent"/> or <see cref="PerfSoftwareEvent"/> value, a tracepoint id, a raw PMU code.</summary>
    public ulong Config { get; init; }
    /// <summary>Sample every N events (0: use <see cref="SampleFrequency"/>).</summary>
    public ulong SamplePeriod { get; init; }
    /// <summary>Samples per second (the kernel adjusts the period).</summary>
    public ulong SampleFrequency { get; init; }
    /// <summary>For a <see cref="PerfEventType.Breakpoint"/> event: the virtual address watched (bp_addr).</summary>
    public ulong BreakpointAddress { get; init; }
    /// <summary>For a <see cref="PerfEventType.Breakpoint"/> event: how many bytes from the address are watched (bp_len: 1, 2, 4 or 8).</summary>
    public ulong BreakpointLength { get; init; }
    /// <summary>For a <see cref="PerfEventType.Breakpoint"/> event: the accesses that fire it (bp_type).</summary>
    public BreakpointKind BreakpointKind { get; init; }
    /// <summary>Do not count events that happen in kernel mode (exclude_kernel); what an unprivileged profiler must set when perf_event_paranoid is 2 or more.</summary>
    public bool ExcludeKernel { get; init; }
    /// <summary>Do not count events that happen in user mode (exclude_user).</summary>
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

    /// <summary>The event and its sampling, as in "software CpuClock at 99 Hz" or "hardware Instructions every 100000".</summary>
    public override string ToString() => Type switch
    {
        PerfEventType.Software => $"software {(PerfSoftwareEvent)Config}",
        PerfEventType.Hardware => $"hardware {(PerfHardwareEvent)Config}",
        PerfEventType.Breakpoint => $"breakpoint {BreakpointKind} at 0x{BreakpointAddress:x}",
        _ => $"{Type} 0x{Config:x}",
    } + (SampleFrequency != 0 ? $" at {SampleFrequency} Hz" : $" every {(SamplePeriod == 0 ? 1 : SamplePeriod)}");
}
