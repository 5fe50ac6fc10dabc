using System;
using System.Collections.Generic;

namespace Ebpf;

/// <summary>
/// A typed view of a program array (<see cref="BpfMapType.ProgArray"/>), the jump table of <c>bpf_tail_call</c>:
/// each slot holds a program (of the type of the programs that tail-call through it) or is empty.
/// </summary>
public sealed class BpfProgramArrayMap : BpfMapWrapper
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a program array.</summary>
    /// <exception cref="ArgumentException">The map is of another kind.</exception>
    public BpfProgramArrayMap(BpfMap map) : base(map, nameof(BpfProgramArrayMap), BpfMapType.ProgArray)
    {
        CheckKeySize(nameof(BpfProgramArrayMap), "uint (slot)", 4);
        CheckValueSize(nameof(BpfProgramArrayMap), "uint (program fd)", 4);
    }

    /// <summary>Number of slots (max_entries).</summary>
    public int Length => (int)MaxEntries;

    /// <summary>Puts <paramref name="program"/> (loaded) in slot <paramref name="index"/>, replacing what was there.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    /// <exception cref="BpfSyscallException">The kernel refused: EINVAL when the program's type (or attach type, JIT mode) differs from the array's other users.</exception>
    public void Set(int index, BpfProgram program)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        CheckIndex(index, nameof(index));
        SetFdSlot((uint)index, program.Handle);
    }

    /// <summary>Puts the program behind <paramref name="programHandle"/> in slot <paramref name="index"/>.</summary>
    public void Set(int index, BpfHandle programHandle)
    {
        if (programHandle is null) throw new ArgumentNullException(nameof(programHandle));
        CheckIndex(index, nameof(index));
        SetFdSlot((uint)index, programHandle);
    }

    /// <summary>Empties slot <paramref name="index"/>; false when it was empty already.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index, nameof(index));
        return DeleteIndex((uint)index);
    }

    /// <summary>The kernel id of the program in slot <paramref name="index"/>; false when the slot is empty.</summary>
    public bool TryGetProgramId(int index, out uint programId)
    {
        CheckIndex(index, nameof(index));
        return TryLookupId((uint)index, out programId);
    }

    /// <summary>The filled slots, walked in index order.</summary>
    public IEnumerable<int> FilledSlots
    {
        get
        {
            for (int i = 0; i < Length; i++)
                if (TryGetProgramId(i, out _)) yield return i;
        }
    }
}
