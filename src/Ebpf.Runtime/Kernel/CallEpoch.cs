using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace Ebpf.Kernel;

/// <summary>
/// Keeps a map descriptor number from being closed (and reused by an unrelated open) while another thread is inside
/// a bpf(2) call on it, without an atomic instruction on the call path.
/// </summary>
/// <remarks>
/// The element operations of the map wrappers are one syscall each, so the two atomics of
/// <see cref="SafeHandle.DangerousAddRef"/>/<see cref="SafeHandle.DangerousRelease"/> are a measurable share of
/// them. Instead, a thread entering a call makes a sequence number that only it writes odd, then checks whether the
/// handle is closed, and makes it even again after the call; a thread closing a map handle marks it closed
/// (SafeHandle does so with a full fence), issues a process-wide memory barrier
/// (<see cref="Interlocked.MemoryBarrierProcessWide"/>, membarrier(2) on Linux) and, for every other thread whose
/// number is odd, waits until that number changes (that call has ended; later calls see the handle closed) before
/// closing the descriptor. Either the caller sees the handle closed, or the closer sees the caller's odd number: the
/// asymmetric form of Dekker's protocol. Callers keep the handle reachable to the end of the call, so the finalizer
/// never closes a descriptor in use.
/// </remarks>
internal static class CallEpoch
{
    /// <summary>One per thread that made a guarded call; padded to two cache lines so threads never share one.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    internal sealed class Slot
    {
        [FieldOffset(64)] public int Seq;
    }

    // All live threads' slots (a thread's slot leaves the list after the thread ends).
    private static readonly ThreadLocal<Slot> s_slots = new(() => new Slot(), trackAllValues: true);

    [ThreadStatic] private static Slot? t_slot;

    /// <summary>This thread's slot.</summary>
    internal static Slot Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_slot ?? Register();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Slot Register() => t_slot = s_slots.Value!;

    /// <summary>
    /// Marks this thread as inside a guarded call (the sequence number turns odd). Check that the handle is open
    /// after this, never before. Guarded calls do not nest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Enter(Slot slot) => Volatile.Write(ref slot.Seq, slot.Seq + 1);

    /// <summary>Marks the end of the call (the sequence number turns even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Exit(Slot slot) => Volatile.Write(ref slot.Seq, slot.Seq + 1);

    /// <summary>Called once the handle is marked closed and before its descriptor is closed.</summary>
    internal static void WaitForCallers()
    {
        Interlocked.MemoryBarrierProcessWide();
        Slot? mine = t_slot;
        IList<Slot> slots;
        try
        {
            slots = s_slots.Values;
        }
        catch (ObjectDisposedException)
        {
            return; // process shutdown
        }
        foreach (var s in slots)
        {
            if (ReferenceEquals(s, mine)) continue;
            int seq = Volatile.Read(ref s.Seq);
            if ((seq & 1) == 0) continue;
            var spin = new SpinWait();
            while (Volatile.Read(ref s.Seq) == seq)
                spin.SpinOnce();
        }
    }
}
