using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using System.Threading;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Sample.Tests;

[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BuildConfigurationAttribute(string configuration) : Attribute
{
    public string Configuration { get; } = configuration;
}

/// <summary>The sample as a user runs it: traces processes this test spawns and reports them.</summary>
public class ExecSnoopTests
{
    private static string Configuration =>
        typeof(ExecSnoopTests).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()!.Configuration;

    private static string JitBinary => Path.Combine(TestEnvironment.RepoRoot, "sample-app", "bin", Configuration, "net10.0", "execsnoop.dll");

    private static string HostedBinary => Path.Combine(TestEnvironment.RepoRoot, "sample-app", "hosted", "bin", Configuration, "net10.0", "execsnoop-hosted.dll");

    private static readonly Lazy<string> s_aot = new Lazy<string>(PublishAot);

    private static string PublishAot()
    {
        string outDir = Path.Combine(TestEnvironment.RepoRoot, "sample-app", "bin", "aot-test");
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var (code, stdout, stderr) = TestEnvironment.Run(dotnet,
            new[] { "publish", Path.Combine(TestEnvironment.RepoRoot, "sample-app"), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", outDir },
            timeoutMs: 900_000);
        Assert.True(code == 0, $"dotnet publish failed ({code}):\n{stdout}\n{stderr}");
        // Zero trim or AOT warnings (IL2xxx/IL3xxx) anywhere in the publish.
        var warnings = stdout.Split('\n').Where(l => l.Contains("warning IL", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 0, "trim/AOT warnings:\n" + string.Join("\n", warnings));
        return Path.Combine(outDir, "execsnoop");
    }

    /// <summary>
    /// Starts execsnoop, waits until it says on stderr that it has attached (a line with <paramref name="attachedMarker"/>,
    /// given to <paramref name="onAttached"/>), runs <paramref name="workload"/>, and returns its JSON lines.
    /// </summary>
    private static List<JsonElement> Trace(string exe, bool jit, string[] args, Action workload, string attachedMarker = "attached", Action<string>? onAttached = null)
    {
        var psi = new ProcessStartInfo(jit ? "dotnet" : exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (jit) psi.ArgumentList.Add(exe);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        // "attached" on stderr means the programs are in the kernel.
        string? line;
        var err = new System.Text.StringBuilder();
        while ((line = p.StandardError.ReadLine()) != null)
        {
            err.AppendLine(line);
            if (line.Contains(attachedMarker, StringComparison.Ordinal)) break;
        }
        Assert.True(line != null, $"execsnoop exited before attaching (exit {(p.HasExited ? p.ExitCode : -1)}):\n{err}");
        onAttached?.Invoke(line!);
        var errRest = p.StandardError.ReadToEndAsync();
        workload();
        Assert.True(p.WaitForExit(60_000), "execsnoop did not stop after --duration");
        Assert.True(p.ExitCode == 0, $"execsnoop failed ({p.ExitCode}): {errRest.Result}");
        return stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static List<int> SpawnTrue(int count)
    {
        var pids = new List<int>();
        for (int i = 0; i < count; i++)
        {
            using var t = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            pids.Add(t.Id);
            t.WaitForExit();
        }
        return pids;
    }

    private static void AssertSawExecAndExit(List<JsonElement> events, IEnumerable<int> pids)
    {
        foreach (int pid in pids)
        {
            var exec = events.FirstOrDefault(e => e.GetProperty("event").GetString() == "exec" && e.GetProperty("pid").GetInt32() == pid);
            Assert.True(exec.ValueKind == JsonValueKind.Object, $"no exec event for pid {pid}");
            Assert.Equal("/bin/true", exec.GetProperty("filename").GetString());
            Assert.Equal("true", exec.GetProperty("comm").GetString());
            // The parent pid is read through CO-RE from task_struct->real_parent->tgid: this test process.
            Assert.Equal(Environment.ProcessId, exec.GetProperty("ppid").GetInt32());
            var exit = events.FirstOrDefault(e => e.GetProperty("event").GetString() == "exit" && e.GetProperty("pid").GetInt32() == pid);
            Assert.True(exit.ValueKind == JsonValueKind.Object, $"no exit event for pid {pid}");
            Assert.Equal(0, exit.GetProperty("exit_code").GetInt32());
            Assert.True(exit.GetProperty("duration_ns").GetUInt64() > 0);
        }
    }

    [Fact]
    public void JitBuildSeesTheProcessesThisTestSpawns()
    {
        TestEnvironment.RequireTracefs();
        List<int> pids = null!;
        var events = Trace(JitBinary, jit: true, new[] { "--json", "--duration", "3" }, () => pids = SpawnTrue(5));
        AssertSawExecAndExit(events, pids);
    }

    [Fact]
    public void NativeAotBinarySeesTheProcessesThisTestSpawns()
    {
        TestEnvironment.RequireTracefs();
        if (Environment.GetEnvironmentVariable("EBPF_SKIP_AOT") == "1")
            Assert.Skip("EBPF_SKIP_AOT=1");
        string exe = s_aot.Value;
        List<int> pids = null!;
        var events = Trace(exe, jit: false, new[] { "--json", "--duration", "2" }, () => pids = SpawnTrue(5));
        AssertSawExecAndExit(events, pids);
    }

    [Fact]
    public void PidFilterIsAppliedInTheKernel()
    {
        TestEnvironment.RequireTracefs();
        // The target ends once the tracer has attached (a target that ends by itself can be gone before a tracer
        // started on a busy machine attaches, and there would be nothing to see).
        using var target = Process.Start(new ProcessStartInfo("/bin/sleep", "60") { UseShellExecute = false })!;
        var events = Trace(JitBinary, jit: true, new[] { "--json", "--duration", "2.5", "--pid", target.Id.ToString() }, () =>
        {
            SpawnTrue(3);
            target.Kill();
            target.WaitForExit();
        });
        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal(target.Id, e.GetProperty("pid").GetInt32()));
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "exit");
    }

    [Fact]
    public void MinDurationReportsOnlyLongerLivedExits()
    {
        TestEnvironment.RequireTracefs();
        int slowPid = 0;
        List<int> quick = null!;
        var events = Trace(JitBinary, jit: true, new[] { "--json", "--duration", "3", "--min-duration", "300" }, () =>
        {
            using var slow = Process.Start(new ProcessStartInfo("/bin/sleep", "0.5") { UseShellExecute = false })!;
            slowPid = slow.Id;
            quick = SpawnTrue(3);
            slow.WaitForExit();
        });
        Assert.DoesNotContain(events, e => e.GetProperty("event").GetString() == "exec");
        Assert.DoesNotContain(events, e => quick.Contains(e.GetProperty("pid").GetInt32()));
        var exit = Assert.Single(events, e => e.GetProperty("pid").GetInt32() == slowPid);
        Assert.True(exit.GetProperty("duration_ns").GetUInt64() >= 300_000_000UL);
    }

    /// <summary>
    /// sample-app/hosted: the Generic Host variant loads and attaches at host start (the health check sees its links),
    /// prints the same JSON lines, and when --duration stops the host, its programs are gone from the kernel.
    /// </summary>
    [Fact]
    public void HostedSampleSeesTheProcessesThisTestSpawnsAndLeavesNothingInTheKernel()
    {
        TestEnvironment.RequireTracefs();
        TestEnvironment.RequireTool("bpftool", "bpftool");
        List<int> pids = null!;
        string attached = null!;
        var events = Trace(HostedBinary, jit: true, new[] { "--json", "--duration", "3", "--run-stats" }, () => pids = SpawnTrue(5),
            attachedMarker: "execsnoop-hosted: attached", onAttached: l => attached = l);
        AssertSawExecAndExit(events, pids);
        Assert.Contains("health Healthy", attached);
        var ids = System.Text.RegularExpressions.Regex.Matches(attached, @"(handle_exec|handle_exit) id (\d+)")
            .Select(m => uint.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(ids.Count == 2 && ids.All(id => id > 0), $"no program ids in '{attached}'");
        // The kernel frees a program after an RCU grace period once its last descriptor and link are closed.
        foreach (uint id in ids)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (TestEnvironment.Run("bpftool", new[] { "prog", "show", "id", id.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ExitCode == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"program {id} is still in the kernel 10 s after execsnoop-hosted stopped");
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>
    /// dotnet-counters, as a user runs it, sees the meter "Ebpf" of the hosted sample: it launches the sample, and while
    /// this test spawns processes, records the events the ring buffer delivered, the object's load, the two attaches
    /// and (--run-stats) the programs' run count.
    /// </summary>
    [Fact]
    public async System.Threading.Tasks.Task DotnetCountersShowsTheHostedSamplesMetrics()
    {
        TestEnvironment.RequireTracefs();
        string home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        string? counters = TestEnvironment.Which("dotnet-counters")
            ?? (File.Exists(Path.Combine(home, ".dotnet", "tools", "dotnet-counters")) ? Path.Combine(home, ".dotnet", "tools", "dotnet-counters") : null);
        if (counters == null)
            Assert.Skip("dotnet-counters is not installed (.ci/run installs it: dotnet tool install -g dotnet-counters)");
        string dir = TestEnvironment.TempDir("ebpf-counters");
        try
        {
            string csv = Path.Combine(dir, "counters.csv");
            var psi = new ProcessStartInfo(counters) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "collect", "--counters", "Ebpf", "--format", "csv", "-o", csv, "--refresh-interval", "1", "--",
                         "dotnet", HostedBinary, "--json", "--duration", "5", "--run-stats" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!p.HasExited && DateTime.UtcNow < deadline)
            {
                SpawnTrue(1);
                Thread.Sleep(100);
            }
            Assert.True(p.WaitForExit(30_000), "dotnet-counters did not stop after the sample's --duration");
            string output = await stdout + "\n" + await stderr;
            Assert.True(File.Exists(csv), $"dotnet-counters wrote no {csv} (exit {p.ExitCode}):\n{output}");
            // Timestamp,Provider,Counter Name,Counter Type,Mean/Increment
            var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).Where(r => r.Length >= 5 && r[1] == "Ebpf").ToList();
            double Total(string counter) => rows.Where(r => r[2].StartsWith(counter, StringComparison.Ordinal))
                .Sum(r => double.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture));
            string all = string.Join("\n", rows.Select(r => string.Join(",", r)).Distinct().Take(60));
            Assert.True(Total("ebpf.reader.events") > 0, "no ebpf.reader.events:\n" + all);
            Assert.True(Total("ebpf.reader.bytes") > 0, "no ebpf.reader.bytes:\n" + all);
            Assert.True(Total("ebpf.program.run.count") > 0, "no ebpf.program.run.count:\n" + all);
            Assert.Contains(rows, r => r[2].StartsWith("ebpf.object.loads", StringComparison.Ordinal));
            Assert.Contains(rows, r => r[2].StartsWith("ebpf.program.attaches", StringComparison.Ordinal));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void UsageErrorsExitWithCode2()
    {
        var (code, _, stderr) = TestEnvironment.Run("dotnet", new[] { JitBinary, "--pid", "abc" });
        Assert.Equal(2, code);
        Assert.Contains("--pid needs a positive process id", stderr);
    }
}
