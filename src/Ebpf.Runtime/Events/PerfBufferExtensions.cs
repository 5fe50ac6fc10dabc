namespace Ebpf;

/// <summary>Reader entry points on the typed perf event array.</summary>
public static class PerfBufferExtensions
{
    /// <summary>
    /// Opens one BPF-output perf event and ring of <paramref name="pagesPerCpu"/> pages per online CPU, installs
    /// them in the map and returns their reader (see <see cref="PerfBufferReader"/>); disposing the reader removes them.
    /// </summary>
    public static PerfBufferReader CreateReader(this BpfPerfEventArrayMap map, int pagesPerCpu = 64, int wakeupEvents = 1) =>
        new PerfBufferReader((map ?? throw new System.ArgumentNullException(nameof(map))).Map, pagesPerCpu, wakeupEvents);
}
