using System;

namespace Ebpf;

/// <summary>
/// A typed view of a perf event array (<see cref="BpfMapType.PerfEventArray"/>), the map
/// <c>bpf_perf_event_output</c> writes through: slot i holds the perf event (usually a PERF_COUNT_SW_BPF_OUTPUT
/// event opened on CPU i) whose ring buffer receives the records a program emits on CPU i. This class manages the
/// slots; reading the records is the perf buffer reader's job.
/// </summary>
public sealed class BpfPerfEventArrayMap : BpfMapWrapper
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a perf event array.</summary>
    /// <exception cref="ArgumentException">The map is of another kind.</exception>
    public BpfPerfEventArrayMap(BpfMap map) : base(map, nameof(BpfPerfEventArrayMap), BpfMapType.PerfEventArray)
    {
        CheckKeySize(nameof(BpfPerfEventArrayMap), "int (CPU)", 4);
        CheckValueSize(nameof(BpfPerfEventArrayMap), "uint (perf event fd)", 4);
    }

    /// <summary>Number of slots (max_entries; the loader sizes a map that leaves it 0 to the possible CPUs).</summary>
    public int Length => (int)MaxEntries;

    /// <summary>Puts the perf event <paramref name="perfEvent"/> in slot <paramref name="cpu"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cpu"/> is not below <see cref="Length"/>.</exception>
    /// <exception cref="BpfSyscallException">The kernel refused (EOPNOTSUPP: an inherited event; EBADF: not a perf event).</exception>
    public void Set(int cpu, BpfHandle perfEvent)
    {
        if (perfEvent is null) throw new ArgumentNullException(nameof(perfEvent));
        CheckIndex(cpu, nameof(cpu));
        SetFdSlot((uint)cpu, perfEvent);
    }

    /// <summary>Empties slot <paramref name="cpu"/>; false when it was empty.</summary>
    public bool Clear(int cpu)
    {
        CheckIndex(cpu, nameof(cpu));
        return DeleteIndex((uint)cpu);
    }
}
