using System;
using System.Globalization;
using System.Text;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Creating kprobe and uprobe perf events: through the dynamic PMUs (/sys/bus/event_source/devices/kprobe|uprobe,
/// Linux 4.17) or, without them, through tracefs kprobe_events / uprobe_events entries (libbpf's "legacy" mode).
/// </summary>
internal static class ProbeEvents
{
    internal const string PmuRoot = "/sys/bus/event_source/devices";
    private const int PERF_UPROBE_REF_CTR_OFFSET_SHIFT = 32;
    private static int s_counter;

    /// <summary>The PMU's perf type, or -errno (-ENOENT when the kernel has no such PMU).</summary>
    public static int PmuType(Syscalls sys, string pmu)
    {
        string? text = sys.ReadTextFile($"{PmuRoot}/{pmu}/type", out int errno);
        if (text == null) return -(errno == 0 ? Errno.ENOENT : errno);
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int t) ? t : -Errno.EINVAL;
    }

    /// <summary>The config bit that makes a probe a return probe ("config:0" in format/retprobe), or -errno.</summary>
    public static int RetprobeBit(Syscalls sys, string pmu)
    {
        string? text = sys.ReadTextFile($"{PmuRoot}/{pmu}/format/retprobe", out int errno);
        if (text == null) return -(errno == 0 ? Errno.ENOENT : errno);
        text = text.Trim();
        const string prefix = "config:";
        if (!text.StartsWith(prefix, StringComparison.Ordinal)) return -Errno.EINVAL;
        return int.TryParse(text.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int bit) && bit < 64 ? bit : -Errno.EINVAL;
    }

    /// <summary>
    /// perf_event_open on the kprobe/uprobe PMU: config1 = function name or binary path, config2 = offset (or
    /// address); the retprobe bit and a uprobe's reference-counter (semaphore) offset go into config.
    /// Returns the descriptor, or -errno.
    /// </summary>
    public static unsafe int OpenPmuProbe(Syscalls sys, int type, int retBit, string nameOrPath, ulong offset, int pid, ulong refCtrOffset)
    {
        var bytes = BpfSys.PathBytes(nameOrPath);
        fixed (byte* pn = bytes)
        {
            var attr = new PerfEventAttr
            {
                Type = (uint)type,
                Size = (uint)sizeof(PerfEventAttr),
                Config = (retBit >= 0 ? 1UL << retBit : 0) | (refCtrOffset << PERF_UPROBE_REF_CTR_OFFSET_SHIFT),
                Config1 = (ulong)pn,
                Config2 = offset,
            };
            // the pid filter only means something for uprobes; kprobes fire everywhere (cpu 0 is just the event's home)
            return sys.PerfEventOpen(&attr, pid < 0 ? -1 : pid, pid == -1 ? 0 : -1, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        }
    }

    /// <summary>perf_event_open on a tracepoint id (legacy probes): the descriptor, or -errno.</summary>
    public static unsafe int OpenTracepoint(Syscalls sys, uint id, int pid)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfEventAttr.TypeTracepoint,
            Size = (uint)sizeof(PerfEventAttr),
            Config = id,
            SamplePeriodOrFreq = 1,
            WakeupEventsOrWatermark = 1,
        };
        return sys.PerfEventOpen(&attr, pid < 0 ? -1 : pid, pid == -1 ? 0 : -1, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
    }

    /// <summary>A unique tracefs event name: "ebpf_PID_what_0xOFFSET_N", only [A-Za-z0-9_].</summary>
    public static string LegacyEventName(string what, ulong offset)
    {
        int n = Interlocked.Increment(ref s_counter);
        var sb = new StringBuilder();
        sb.Append("ebpf_").Append(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).Append('_');
        foreach (char c in what)
            sb.Append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
        sb.Append("_0x").Append(offset.ToString("x", CultureInfo.InvariantCulture)).Append('_').Append(n.ToString(CultureInfo.InvariantCulture));
        // tracefs event names are limited (MAX_EVENT_NAME_LEN = 64)
        string s = sb.ToString();
        return s.Length <= 63 ? s : s.Substring(0, 40) + "_" + ((uint)s.GetHashCode()).ToString("x8", CultureInfo.InvariantCulture) + "_" + n.ToString(CultureInfo.InvariantCulture);
    }

    public static string KprobeGroup(bool retprobe) => retprobe ? "kretprobes" : "kprobes";
    public static string UprobeGroup(bool retprobe) => retprobe ? "uretprobes" : "uprobes";

    /// <summary>The kprobe_events line that creates a probe.</summary>
    public static string KprobeEventLine(bool retprobe, string eventName, string function, ulong offset) =>
        $"{(retprobe ? 'r' : 'p')}:{KprobeGroup(retprobe)}/{eventName} {function}+0x{offset.ToString("x", CultureInfo.InvariantCulture)}";

    /// <summary>The uprobe_events line that creates a probe (with the semaphore's offset in parentheses).</summary>
    public static string UprobeEventLine(bool retprobe, string eventName, string path, ulong offset, ulong refCtrOffset) =>
        $"{(retprobe ? 'r' : 'p')}:{UprobeGroup(retprobe)}/{eventName} {path}:0x{offset.ToString("x", CultureInfo.InvariantCulture)}" +
        (refCtrOffset != 0 ? $"(0x{refCtrOffset.ToString("x", CultureInfo.InvariantCulture)})" : string.Empty);

    /// <summary>The line that removes a probe event.</summary>
    public static string RemoveLine(string group, string eventName) => $"-:{group}/{eventName}";

    /// <summary>Reads the id of a tracefs event just created: events/GROUP/NAME/id; -errno when it cannot.</summary>
    public static long EventId(Syscalls sys, string root, string group, string eventName)
    {
        string? text = sys.ReadTextFile($"{root}/events/{group}/{eventName}/id", out int errno);
        if (text == null) return -(errno == 0 ? Errno.ENOENT : errno);
        return uint.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id : -Errno.EINVAL;
    }

    /// <summary>
    /// Creates a legacy probe event, opens its perf event and returns the descriptor; the returned cleanup removes
    /// the event (after the perf event is closed). Failures leave nothing behind.
    /// </summary>
    public static BpfHandle OpenLegacy(Syscalls sys, string root, string eventsFile, string group, string eventName, string line, int pid, string what,
        out Action cleanup)
    {
        string file = $"{root}/{eventsFile}";
        int r = sys.WriteTextFile(file, line + "\n", append: true);
        if (r < 0)
        {
            int e = -r;
            string why = e switch
            {
                Errno.ENOENT or Errno.EINVAL when eventsFile == "kprobe_events" => $"the kernel refused `{line}`: the function does not exist or is not traceable (inlined, static, notrace or blacklisted; see {root}/available_filter_functions)",
                Errno.ENOENT or Errno.EINVAL => $"the kernel refused `{line}`: the binary or offset is not valid",
                Errno.EEXIST => $"a probe event named {group}/{eventName} exists already",
                Errno.EACCES or Errno.EPERM => $"writing {file} needs root",
                _ => $"the kernel refused `{line}`",
            };
            throw new BpfSyscallException($"write({eventsFile})", null, e, $"creating {what} through {file} failed: {Errno.Name(e)} ({Errno.Describe(e)}); {why}");
        }
        void Remove() => sys.WriteTextFile(file, RemoveLine(group, eventName) + "\n", append: true);
        long id = EventId(sys, root, group, eventName);
        if (id < 0)
        {
            Remove();
            throw new BpfSyscallException($"read(events/{group}/{eventName}/id)", null, (int)-id, $"creating {what}: the event {group}/{eventName} was added to {file} but its id cannot be read: {Errno.Name((int)-id)}");
        }
        int fd = OpenTracepoint(sys, (uint)id, pid);
        if (fd < 0)
        {
            Remove();
            throw new BpfSyscallException("perf_event_open", null, -fd, $"opening the perf event of {what} ({group}/{eventName}) failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})");
        }
        cleanup = Remove;
        return new BpfHandle(fd, BpfHandleKind.PerfEvent, sys);
    }
}
