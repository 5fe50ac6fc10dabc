namespace Ebpf;

/// <summary>
/// Position of a batch walk over a map (the in_batch/out_batch token of BPF_MAP_LOOKUP_BATCH and
/// BPF_MAP_LOOKUP_AND_DELETE_BATCH). Start from <c>default</c>, pass it by <c>ref</c> to every call of one walk
/// of one map, and stop when a call returns 0 (<see cref="IsDone"/> is then true):
/// <code>
/// var keys = new uint[4096];
/// var values = new ulong[4096];
/// var cursor = new BpfBatchCursor();
/// int n;
/// while ((n = map.LookupBatch(keys, values, ref cursor)) &gt; 0)
///     Consume(keys.AsSpan(0, n), values.AsSpan(0, n));
/// </code>
/// The last call that returns elements may already set <see cref="IsDone"/>; the next one then returns 0 without
/// a system call.
/// </summary>
public struct BpfBatchCursor
{
    // Kernel tokens: a hash map's is a 4-byte bucket index, an array's a 4-byte key. Tokens of maps with keys
    // longer than 8 bytes (the generic batch code uses key-sized tokens) live in BigIn/BigOut.
    internal ulong InToken, OutToken;
    internal byte[]? BigIn, BigOut;
    // Emulation (kernels or map types without batch commands): the last key returned.
    internal byte[]? LastKey;
    internal bool Started, Done, Emulated;

    /// <summary>True once the walk has reached the end of the map.</summary>
    public readonly bool IsDone => Done;

    /// <summary>True once a call has been made with this cursor.</summary>
    public readonly bool IsStarted => Started || Done;

    /// <summary>
    /// True when the map's kernel had no batch command for this walk, so the wrapper emulated it with
    /// BPF_MAP_GET_NEXT_KEY and single-element commands (same results, one or two system calls per element).
    /// </summary>
    public readonly bool IsEmulated => Emulated;

    /// <summary>Starts over from the beginning of the map.</summary>
    public void Reset() => this = default;
}
