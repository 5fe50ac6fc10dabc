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

    /// <summary>Starts execsnoop, waits until it has attached, runs <paramref name="workload"/>, and returns its JSON lines.</summary>
    private static List<JsonElement> Trace(string exe, bool jit, string[] args, Action workload)
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
            if (line.Contains("attached", StringComparison.Ordinal)) break;
        }
        Assert.True(line != null, $"execsnoop exited before attaching (exit {(p.HasExited ? p.ExitCode : -1)}):\n{err}");
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

    [Fact]
    public void UsageErrorsExitWithCode2()
    {
        var (code, _, stderr) = TestEnvironment.Run("dotnet", new[] { JitBinary, "--pid", "abc" });
        Assert.Equal(2, code);
        Assert.Contains("--pid needs a positive process id", stderr);
    }
}
