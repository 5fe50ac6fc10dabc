using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>What a <see cref="BpfStackBuildId"/> frame holds (<c>enum bpf_stack_build_id_status</c>).</summary>
public enum BpfStackBuildIdStatus
{
    /// <summary>No frame (past the end of the stack).</summary>
    Empty = 0,
    /// <summary>The frame has a build id and an offset into that file.</summary>
    Valid = 1,
    /// <summary>The kernel could not find a build id: the frame has a raw instruction pointer.</summary>
    Ip = 2,
}

/// <summary>One frame of a build-id stack trace (<c>struct bpf_stack_build_id</c>, 32 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct BpfStackBuildId
{
    [FieldOffset(0)] private int _status;
    // bytes 4..23: the build id
    [FieldOffset(24)] private ulong _offsetOrIp;

    /// <summary>What this frame holds.</summary>
    public readonly BpfStackBuildIdStatus Status => (BpfStackBuildIdStatus)_status;

    /// <summary>The 20-byte build id of the file the frame is in (when <see cref="Status"/> is Valid).</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> BuildId =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<int, byte>(ref Unsafe.AsRef(in _status)), 32).Slice(4, 20);

    /// <summary>The offset in the file (Valid) or the instruction pointer (Ip).</summary>
    public readonly ulong OffsetOrIp => _offsetOrIp;

    /// <summary>"buildid+0xoffset", "ip 0x...", or "empty".</summary>
    public override readonly string ToString()
    {
        switch (Status)
        {
            case BpfStackBuildIdStatus.Valid:
                var sb = new StringBuilder(64);
                foreach (byte b in BuildId) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
                return sb.Append("+0x").Append(_offsetOrIp.ToString("x", CultureInfo.InvariantCulture)).ToString();
            case BpfStackBuildIdStatus.Ip:
                return "ip 0x" + _offsetOrIp.ToString("x", CultureInfo.InvariantCulture);
            default:
                return "empty";
        }
    }
}

/// <summary>
/// A typed view of a stack trace map (<see cref="BpfMapType.StackTrace"/>), the map <c>bpf_get_stackid</c> stores
/// stacks in: the key is the stack id the helper returned, the value an array of up to <see cref="MaxDepth"/>
/// instruction pointers (or, for maps created with BPF_F_STACK_BUILD_ID, of <see cref="BpfStackBuildId"/> frames),
/// zero-filled past the stack's end.
/// </summary>
public sealed class BpfStackTraceMap : BpfMapWrapper
{
    private const int StackLimit = 2048;

    /// <summary>Wraps <paramref name="map"/>, checking that it is a stack trace map with 4-byte keys and whole frames.</summary>
    /// <exception cref="ArgumentException">The map is of another kind or its sizes are not those of a stack trace map.</exception>
    public unsafe BpfStackTraceMap(BpfMap map) : base(map, nameof(BpfStackTraceMap), BpfMapType.StackTrace)
    {
        CheckKeySize(nameof(BpfStackTraceMap), "uint (stack id)", 4);
        int frame = FrameSize;
        if (map.ValueSize == 0 || map.ValueSize % frame != 0)
            throw new ArgumentException(
                $"map '{map.Name}': a stack trace map's value is an array of {(HasBuildIds ? "32-byte struct bpf_stack_build_id" : "8-byte instruction pointer")} frames, but its value size is {map.ValueSize} bytes", nameof(map));
    }

    /// <summary>True when the map stores build-id frames (BPF_F_STACK_BUILD_ID) instead of instruction pointers.</summary>
    public bool HasBuildIds => (Map.Flags & BpfMapFlags.StackBuildId) != 0;

    private int FrameSize => HasBuildIds ? 32 : 8;

    /// <summary>Frames per stack: the value size divided by the frame size.</summary>
    public int MaxDepth => (int)(Map.ValueSize / (uint)FrameSize);

    /// <summary>The stack ids in the map.</summary>
    public IEnumerable<int> StackIds
    {
        get
        {
            foreach (uint id in new BpfMapKeys<uint>(_map))
                yield return (int)id;
        }
    }

    /// <summary>Number of stacks stored (walks the ids).</summary>
    public int Count => CountKeys();

    /// <summary>
    /// Copies stack <paramref name="stackId"/>'s instruction pointers, innermost first, to <paramref name="ips"/>
    /// (up to its length) and sets <paramref name="frameCount"/> to the number of frames; false when the id is not
    /// in the map (or is negative: an error <c>bpf_get_stackid</c> returned). Does not allocate.
    /// </summary>
    /// <exception cref="InvalidOperationException">The map stores build-id frames (use <see cref="TryGetBuildIdStackTrace"/>).</exception>
    public unsafe bool TryGetStackTrace(int stackId, Span<ulong> ips, out int frameCount)
    {
        if (HasBuildIds)
            throw new InvalidOperationException($"map '{Name}' stores build-id frames (BPF_F_STACK_BUILD_ID): use TryGetBuildIdStackTrace");
        frameCount = 0;
        if (stackId < 0) return false;
        int depth = MaxDepth;
        uint key = (uint)stackId;
        int r;
        if (ips.Length >= depth)
        {
            fixed (ulong* v = ips)
                r = _map.LookupRaw(&key, v, 0);
            if (r == 0) frameCount = Frames(ips.Slice(0, depth));
        }
        else
        {
            int bytes = depth * 8;
            byte[]? rented = null;
            Span<byte> buf = bytes <= StackLimit ? stackalloc byte[bytes] : (rented = ArrayPool<byte>.Shared.Rent(bytes));
            try
            {
                fixed (byte* v = buf)
                    r = _map.LookupRaw(&key, v, 0);
                if (r == 0)
                {
                    var all = MemoryMarshal.Cast<byte, ulong>(buf.Slice(0, bytes));
                    frameCount = Math.Min(Frames(all), ips.Length);
                    all.Slice(0, frameCount).CopyTo(ips);
                }
            }
            finally
            {
                if (rented != null) ArrayPool<byte>.Shared.Return(rented);
            }
        }
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>Stack <paramref name="stackId"/>'s instruction pointers, innermost first (as many as it has frames).</summary>
    /// <exception cref="KeyNotFoundException">The id is not in the map.</exception>
    public ulong[] GetStackTrace(int stackId)
    {
        var ips = new ulong[MaxDepth];
        if (!TryGetStackTrace(stackId, ips, out int n))
            throw new KeyNotFoundException($"map '{Name}' has no stack with id {stackId}");
        return ips.AsSpan(0, n).ToArray();
    }

    /// <summary>Like <see cref="TryGetStackTrace"/>, for maps with BPF_F_STACK_BUILD_ID.</summary>
    /// <exception cref="InvalidOperationException">The map stores instruction pointers.</exception>
    public unsafe bool TryGetBuildIdStackTrace(int stackId, Span<BpfStackBuildId> frames, out int frameCount)
    {
        if (!HasBuildIds)
            throw new InvalidOperationException($"map '{Name}' stores instruction pointers (no BPF_F_STACK_BUILD_ID): use TryGetStackTrace");
        frameCount = 0;
        if (stackId < 0) return false;
        int depth = MaxDepth;
        var all = frames.Length >= depth ? frames.Slice(0, depth) : new BpfStackBuildId[depth];
        uint key = (uint)stackId;
        int r;
        fixed (BpfStackBuildId* v = all)
            r = _map.LookupRaw(&key, v, 0);
        if (r == 0)
        {
            int n = 0;
            while (n < all.Length && all[n].Status != BpfStackBuildIdStatus.Empty) n++;
            frameCount = Math.Min(n, frames.Length);
            if (frames.Length < depth) all.Slice(0, frameCount).CopyTo(frames);
            return true;
        }
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>Stack <paramref name="stackId"/>'s build-id frames.</summary>
    /// <exception cref="KeyNotFoundException">The id is not in the map.</exception>
    public BpfStackBuildId[] GetBuildIdStackTrace(int stackId)
    {
        var frames = new BpfStackBuildId[MaxDepth];
        if (!TryGetBuildIdStackTrace(stackId, frames, out int n))
            throw new KeyNotFoundException($"map '{Name}' has no stack with id {stackId}");
        return frames.AsSpan(0, n).ToArray();
    }

    /// <summary>Frees stack <paramref name="stackId"/> so the id can be reused; false when absent.</summary>
    public bool Delete(int stackId) => stackId >= 0 && DeleteIndex((uint)stackId);

    private static int Frames(ReadOnlySpan<ulong> ips)
    {
        int n = 0;
        while (n < ips.Length && ips[n] != 0) n++;
        return n;
    }
}
