using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// Each system call of open, load, attach, detach and dispose is made to fail in turn, with each errno a kernel
/// gives (EPERM, ENOMEM, EINVAL, E2BIG, EAGAIN, ENOSPC): the result is a clean success (where the loader retries
/// or falls back) or a typed <see cref="BpfException"/> that names the failing call and errno; every descriptor
/// opened through the seam is closed afterwards, and nothing stays attached.
/// </summary>
[Collection(FdAccountingCollection.Name)]
public class FaultInjectionTests
{
    private static readonly int[] Errnos = { Errno.EPERM, Errno.ENOMEM, Errno.EINVAL, Errno.E2BIG, Errno.EAGAIN, Errno.ENOSPC };

    public static TheoryData<string> Objects() => new TheoryData<string>(
        "globals", "exec_snoop", "map_in_map", "prog_array", "externs", "calls", "core_comm");

    /// <summary>Open, load, attach what the sections say, read a map, detach, dispose.</summary>
    private static void Scenario(string name)
    {
        using var obj = BpfObject.Open(TestEnvironment.Bpf(name));
        obj.Load();
        obj.Attach();
        foreach (var p in obj.Programs)
            _ = p.IsLoaded;
        obj.Detach();
    }

    private static Exception? Try(string name)
    {
        try
        {
            Scenario(name);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void EveryFailingSyscallEndsInATypedErrorAndLeavesNothingBehind(string name)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        var fake = new FaultInjectingSyscalls();
        using var _ = Syscalls.Override(fake);

        // Warm up: feature probes are cached per seam instance, so the recorded run below is the load path itself.
        var warm = Try(name);
        Assert.True(warm == null, $"{name}: the scenario fails without injected faults: {warm}");
        Assert.Empty(fake.OpenDescriptors);
        fake.Reset();
        Assert.Null(Try(name));
        var calls = fake.Calls;
        Assert.NotEmpty(calls);

        var problems = new List<string>();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < calls.Count; k++)
        {
            foreach (int errno in Errnos)
            {
                fake.Reset(k, errno);
                var e = Try(name);
                string where = $"call #{k} {fake.FailedCall ?? calls[k]} failing with {Errno.Name(errno)}";
                string? problem = Check(e, fake, errno);
                if (problem != null)
                    problems.Add($"{where}: {problem}");
                if (fake.OpenDescriptors.Count != 0)
                {
                    problems.Add($"{where}: descriptors left open: {string.Join(", ", fake.OpenDescriptors.Select(kv => $"{kv.Key} ({kv.Value})"))}");
                    foreach (var fd in fake.OpenDescriptors.Keys) fake.Close(fd); // do not let one leak fail every later case
                }
                string key = e == null ? "success" : e.GetType().Name;
                outcomes[key] = outcomes.TryGetValue(key, out int n) ? n + 1 : 1;
            }
        }
        Log($"{name}: {calls.Count} calls x {Errnos.Length} errnos = {calls.Count * Errnos.Length} runs; " +
            string.Join(", ", outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(problems.Count == 0, $"{name}: {problems.Count} problems:\n" + string.Join("\n", problems.Take(40)));
        AssertNothingLeftInTheKernel(fake);
    }

    /// <summary>
    /// The same on a cold seam: the feature probes of a fresh seam are part of the sequence, so a probe failing with
    /// each errno (which makes the loader believe a feature is missing, or report the permission error) is covered too.
    /// </summary>
    [Theory]
    [InlineData("globals")]
    [InlineData("exec_snoop")]
    public void EveryFailingSyscallOfAColdLoadIncludingProbesEndsCleanly(string name)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        var recorder = new FaultInjectingSyscalls();
        using (Syscalls.Override(recorder))
            Assert.Null(Try(name));
        var calls = recorder.Calls;
        var problems = new List<string>();
        var created = new Dictionary<string, HashSet<uint>>(StringComparer.Ordinal);
        int runs = 0;
        for (int k = 0; k < calls.Count; k++)
        {
            foreach (int errno in Errnos)
            {
                var fake = new FaultInjectingSyscalls();
                fake.Reset(k, errno);
                Exception? e;
                using (Syscalls.Override(fake))
                    e = Try(name);
                runs++;
                string where = $"call #{k} {fake.FailedCall ?? calls[k]} failing with {Errno.Name(errno)}";
                string? problem = Check(e, fake, errno);
                if (problem != null)
                    problems.Add($"{where}: {problem}");
                if (fake.OpenDescriptors.Count != 0)
                {
                    problems.Add($"{where}: descriptors left open: {string.Join(", ", fake.OpenDescriptors.Select(kv => $"{kv.Key} ({kv.Value})"))}");
                    foreach (var fd in fake.OpenDescriptors.Keys) fake.Close(fd);
                }
                foreach (var (kind, ids) in fake.CreatedIds)
                {
                    if (!created.TryGetValue(kind, out var set)) created[kind] = set = new HashSet<uint>();
                    set.UnionWith(ids);
                }
            }
        }
        Log($"{name} (cold): {calls.Count} calls x {Errnos.Length} errnos = {runs} runs");
        Assert.True(problems.Count == 0, $"{name}: {problems.Count} problems:\n" + string.Join("\n", problems.Take(40)));
        var left = KernelObjectAudit.StillListed(created);
        Assert.True(left == null || left.Count == 0, $"after the runs, the kernel still has: {string.Join(", ", left ?? new List<string>())}");
    }

    /// <summary>
    /// Continuing on failure (<see cref="BpfLoadMode.ContinueOnFailure"/>), each system call failing in turn with each
    /// errno: the load itself never throws; its report agrees with the object (a map or program reported made is
    /// open, one reported failed is not and carries a typed error naming it); what loaded attaches; and after
    /// Dispose every descriptor is closed and the kernel keeps nothing.
    /// </summary>
    [Theory]
    [MemberData(nameof(Objects))]
    public void ContinuingOnFailureEveryFailingSyscallIsReportedAndLeavesNothingBehind(string name)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        var fake = new FaultInjectingSyscalls();
        using var seam = Syscalls.Override(fake);
        Assert.Null(TryContinuing(name, out _));
        fake.Reset();
        Assert.Null(TryContinuing(name, out var clean));
        Assert.True(clean!.Succeeded, clean.ToString());
        var calls = fake.Calls;

        var problems = new List<string>();
        var statuses = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < calls.Count; k++)
        {
            foreach (int errno in Errnos)
            {
                fake.Reset(k, errno);
                string? problem = TryContinuing(name, out var report);
                string where = $"call #{k} {fake.FailedCall ?? calls[k]} failing with {Errno.Name(errno)}";
                if (problem != null)
                    problems.Add($"{where}: {problem}");
                if (fake.OpenDescriptors.Count != 0)
                {
                    problems.Add($"{where}: descriptors left open: {string.Join(", ", fake.OpenDescriptors.Select(kv => $"{kv.Key} ({kv.Value})"))}");
                    foreach (var fd in fake.OpenDescriptors.Keys) fake.Close(fd);
                }
                string key = report == null ? "no report" : report.Error != null ? "object failed" : report.Succeeded ? "all loaded" : "partly loaded";
                statuses[key] = statuses.TryGetValue(key, out int n) ? n + 1 : 1;
            }
        }
        Log($"{name} (continuing on failure): {calls.Count} calls x {Errnos.Length} errnos = {calls.Count * Errnos.Length} runs; " +
            string.Join(", ", statuses.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(problems.Count == 0, $"{name}: {problems.Count} problems:\n" + string.Join("\n", problems.Take(40)));
        AssertNothingLeftInTheKernel(fake);
    }

    /// <summary>Opens, loads continuing on failure, checks the report against the object, attaches, detaches, disposes; null when all is as it should be.</summary>
    private static string? TryContinuing(string name, out BpfLoadReport? report)
    {
        report = null;
        try
        {
            using var obj = BpfObject.Open(TestEnvironment.Bpf(name));
            report = obj.Load(BpfLoadMode.ContinueOnFailure);
            if (report.Error != null)
            {
                if (obj.IsLoaded) return "the whole object failed but it says it is loaded";
                if (report.Error.ObjectName != name) return $"the object's error does not name the object: {report.Error.Message}";
            }
            foreach (var m in report.Maps)
            {
                bool made = m.Status is BpfMapLoadStatus.Created or BpfMapLoadStatus.Pinned or BpfMapLoadStatus.Reused;
                if (made != m.Map.IsLoaded && report.Error == null)
                    return $"map '{m.Name}' is reported {m.Status} but IsLoaded is {m.Map.IsLoaded}";
                if (m.Status == BpfMapLoadStatus.Failed && (m.Error == null || m.Error.MapName != m.Name))
                    return $"map '{m.Name}' failed without an error naming it: {m.Error?.Message}";
            }
            foreach (var p in report.Programs)
            {
                if ((p.Status == BpfProgramLoadStatus.Loaded) != p.Program.IsLoaded && report.Error == null)
                    return $"program '{p.Name}' is reported {p.Status} but IsLoaded is {p.Program.IsLoaded}";
                if (p.Status == BpfProgramLoadStatus.Failed && (p.Error == null || p.Error.ProgramName != p.Name))
                    return $"program '{p.Name}' failed without an error naming it: {p.Error?.Message}";
            }
            if (obj.IsLoaded)
            {
                try
                {
                    obj.Attach();
                    obj.Detach();
                }
                catch (BpfException e)
                {
                    if (string.IsNullOrWhiteSpace(e.Message)) return "an attach error without a message";
                }
            }
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name} escaped: {e}";
        }
    }

    /// <summary>To the test output, and to the file EBPF_RELIABILITY_LOG names (for recording the matrix).</summary>
    private static void Log(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        var file = Environment.GetEnvironmentVariable("EBPF_RELIABILITY_LOG");
        if (!string.IsNullOrEmpty(file))
            System.IO.File.AppendAllText(file, line + Environment.NewLine);
    }

    /// <summary>Whether the exception reports the call the seam failed ("bpf(BPF_MAP_CREATE)", "perf_event_open", "mmap").</summary>
    private static bool IsTheFailedCall(string failed, BpfSyscallException e) =>
        failed == $"bpf({e.Operation})" || failed == e.Operation;

    /// <summary>Null when the outcome is acceptable; else what is wrong with it.</summary>
    internal static string? Check(Exception? e, FaultInjectingSyscalls fake, int errno)
    {
        if (e == null)
            return null; // retried (EAGAIN), fell back (a probe said "unsupported"), or the call was optional
        if (e is not BpfException)
            return $"untyped {e.GetType().Name}: {e}";
        if (string.IsNullOrWhiteSpace(e.Message))
            return "empty message";
        if (e is BpfSyscallException se && fake.FailedCall is { } failed && IsTheFailedCall(failed, se) && se.Errno == errno)
        {
            if (!e.Message.Contains(Errno.Name(errno), StringComparison.Ordinal))
                return $"message does not name {Errno.Name(errno)}: {e.Message}";
        }
        else if (e is BpfSyscallException se2 && fake.FailedCall is { } f2 && IsTheFailedCall(f2, se2) && se2.Errno != errno)
        {
            return $"reports errno {se2.ErrnoName} for the call that failed with {Errno.Name(errno)}";
        }
        return null;
    }

    /// <summary>bpftool lists none of the programs, maps and links the runs created.</summary>
    internal static void AssertNothingLeftInTheKernel(FaultInjectingSyscalls fake)
    {
        var left = KernelObjectAudit.StillListed(fake.CreatedIds);
        Assert.True(left == null || left.Count == 0, $"after the runs, the kernel still has: {string.Join(", ", left ?? new List<string>())}");
    }
}
