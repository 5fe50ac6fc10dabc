using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

/// <summary>
/// <c>object load</c> on the running kernel (needs root). The loads touch only this process's descriptors and a
/// private pin directory, so they may run in parallel with other tests.
/// </summary>
public class ObjectLoadCommandTests
{
    private static JsonElement Program(JsonElement obj, string name) =>
        obj.GetProperty("programs").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    /// <summary>Descriptors of this process that are BPF programs, maps, links or BTF objects.</summary>
    private static int BpfFdCount() => TestEnvironment.CountFds(target =>
        target != null && (target.StartsWith("anon_inode:bpf", StringComparison.Ordinal) || target == "anon_inode:btf"));

    private static string ProgramLine(CliResult r, string name) =>
        r.StdOut.Split('\n').Single(l => l.StartsWith($"  {name} ", StringComparison.Ordinal));

    [Fact]
    public void GlobalsLoadsEverything()
    {
        TestEnvironment.RequireRoot();
        string obj = TestEnvironment.Bpf("globals");
        int fds = BpfFdCount();
        var r = CliRunner.Run("object", "load", obj);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.StdErr);
        var lines = r.StdOut.Split('\n');
        Assert.Matches(@"^.*globals\.bpf\.o \(kernel [^)]+\): OK, 2 programs loaded$", lines[0]);
        Assert.Equal("  MAP             TYPE   RESULT", lines[1]);
        Assert.Matches(@"^  globals\.rodata  array  created \(id \d+\)$", lines[2]);
        Assert.Matches(@"^  on_getpid  tp/syscalls/sys_enter_getpid  tracepoint  loaded \(70 insns, id \d+\)$", ProgramLine(r, "on_getpid"));
        Assert.Matches(@"^  run        xdp                           xdp         loaded \(72 insns, id \d+\)$", ProgramLine(r, "run"));
        // No BPF descriptor stays open (the CLI ran in this process; only this class loads BPF objects).
        Assert.Equal(fds, BpfFdCount());
    }

    [Fact]
    public void VerifierRejectionIsReportedPerProgram()
    {
        TestEnvironment.RequireRoot();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("verifier_reject"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdErr);
        Assert.Contains("): 1 of 2 programs loaded, 1 FAILED\n", r.StdOut);
        string bad = ProgramLine(r, "bad_oob");
        Assert.StartsWith("  bad_oob       raw_tp   raw_tracepoint  FAILED: R", bad);
        Assert.Contains("unbounded memory access", bad);
        Assert.EndsWith("(EACCES)", bad);
        Assert.Matches(@"^  good_checked  raw_tp   raw_tracepoint  loaded \(\d+ insns, id \d+\)$", ProgramLine(r, "good_checked"));
        Assert.DoesNotContain("verifier log:", r.StdOut);

        var log = CliRunner.Run("object", "load", TestEnvironment.Bpf("verifier_reject"), "--log");
        Assert.Equal(1, log.ExitCode);
        var lines = log.StdOut.Split('\n').ToList();
        int at = lines.FindIndex(l => l.StartsWith("  bad_oob ", StringComparison.Ordinal));
        Assert.Equal("    verifier log:", lines[at + 1]);
        // The verifier's own lines, as it walked the program (their wording varies by kernel; instructions are "N: (op) ...").
        Assert.Contains(lines.Skip(at + 2), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^      \d+: \([0-9a-f]{2}\) "));
        // The whole log (tens of KiB) is there, down to the verifier's statistics.
        Assert.Contains(lines, l => l.StartsWith("      processed ", StringComparison.Ordinal));
        Assert.True(log.StdOut.Length > 20_000, $"only {log.StdOut.Length} characters of output");
    }

    [Fact]
    public void JsonReportsEveryProgramWithStatusIdAndReason()
    {
        TestEnvironment.RequireRoot();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("verifier_reject"), TestEnvironment.Bpf("globals"), "--json");
        Assert.Equal(1, r.ExitCode);
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var reject = JsonDocument.Parse(lines[0]);
        using var globals = JsonDocument.Parse(lines[1]);

        var root = reject.RootElement;
        Assert.Equal("verifier_reject", root.GetProperty("object").GetString());
        Assert.False(root.GetProperty("loaded").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        var table = root.GetProperty("maps")[0];
        Assert.Equal("table", table.GetProperty("name").GetString());
        Assert.True(table.GetProperty("created").GetBoolean());
        Assert.Equal("created", table.GetProperty("status").GetString());
        Assert.True(table.GetProperty("id").GetUInt32() > 0);
        Assert.Equal(JsonValueKind.Null, table.GetProperty("error").ValueKind);
        var bad = Program(root, "bad_oob");
        Assert.Equal("failed", bad.GetProperty("status").GetString());
        Assert.Equal("EACCES", bad.GetProperty("errno").GetString());
        Assert.Contains("unbounded memory access", bad.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("id").ValueKind);
        Assert.False(bad.TryGetProperty("verifier_log", out _));
        var good = Program(root, "good_checked");
        Assert.Equal("loaded", good.GetProperty("status").GetString());
        Assert.True(good.GetProperty("id").GetUInt32() > 0);
        Assert.True(good.GetProperty("instructions").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Null, good.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, good.GetProperty("errno").ValueKind);

        Assert.True(globals.RootElement.GetProperty("loaded").GetBoolean());
        Assert.All(globals.RootElement.GetProperty("programs").EnumerateArray(), p => Assert.Equal("loaded", p.GetProperty("status").GetString()));

        var withLog = CliRunner.Run("object", "load", TestEnvironment.Bpf("verifier_reject"), "--json", "--log");
        using var logged = JsonDocument.Parse(withLog.StdOut);
        Assert.Contains("unbounded memory access", Program(logged.RootElement, "bad_oob").GetProperty("verifier_log").GetString());
        Assert.Equal(JsonValueKind.Null, Program(logged.RootElement, "good_checked").GetProperty("verifier_log").ValueKind);
    }

    [Fact]
    public void NothingStaysLoaded()
    {
        TestEnvironment.RequireRoot();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("globals"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var ids = doc.RootElement.GetProperty("programs").EnumerateArray().Select(p => p.GetProperty("id").GetUInt32()).ToList();
        Assert.Equal(2, ids.Count);
        string? bpftool = TestEnvironment.Which("bpftool");
        if (bpftool is null)
            Assert.Skip("bpftool is not installed: cannot look the program ids up");
        foreach (var id in ids)
        {
            // The kernel frees a program once its last descriptor is closed (RCU: allow it a moment).
            bool gone = false;
            for (int i = 0; i < 50 && !gone; i++)
            {
                var (rc, _, _) = TestEnvironment.Run(bpftool, new[] { "prog", "show", "id", id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                gone = rc != 0;
                if (!gone) System.Threading.Thread.Sleep(100);
            }
            Assert.True(gone, $"program id {id} is still loaded after the command");
        }
    }

    [Fact]
    public void PinnedMapsLeaveNoPins()
    {
        TestEnvironment.RequireBpffs();
        var before = Directory.GetFileSystemEntries("/sys/fs/bpf").Where(e => Path.GetFileName(e).StartsWith("dotnet-ebpf-load-", StringComparison.Ordinal)).ToList();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("maps"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"\n  pinned_map           hash              created \(id \d+\)\n", r.StdOut);
        var after = Directory.GetFileSystemEntries("/sys/fs/bpf").Where(e => Path.GetFileName(e).StartsWith("dotnet-ebpf-load-", StringComparison.Ordinal)).ToList();
        Assert.Equal(before, after);
    }

    [Fact]
    public void TracingProgramsReportTheirOwnReason()
    {
        TestEnvironment.RequireRoot();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("attach_fentry"));
        foreach (var name in new[] { "unlink_entry", "unlink_exit", "getpgid_modret" })
        {
            string line = ProgramLine(r, name);
            // Loads on kernels with BPF trampolines; refused with EPERM on this one, which the loader names as the missing feature.
            Assert.True(line.Contains(" loaded (", StringComparison.Ordinal) || line.Contains("FAILED: this kernel", StringComparison.Ordinal), line);
        }
        bool anyFailed = r.StdOut.Contains("FAILED: this kernel", StringComparison.Ordinal);
        Assert.Equal(anyFailed ? 1 : 0, r.ExitCode);
        if (anyFailed)
            Assert.Contains("does not support fentry/fexit/fmod_ret/lsm programs on kernel functions (BPF trampolines), although it is newer than Linux 5.5", r.StdOut);
    }

    [Fact]
    public void AutoloadOffProgramsAreSkippedUnlessAll()
    {
        TestEnvironment.RequireRoot();
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("core_flavors"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("OK, 1 of 2 programs loaded (1 with autoload off)", r.StdOut);
        Assert.EndsWith("skipped: autoload off (SEC(\"?...\")); --all loads it", ProgramLine(r, "read_state_unguarded"));

        // --all: the unguarded read of task_struct.state (renamed __state in Linux 5.14) loads where the kernel has the
        // field; on newer kernels it reaches the verifier, which names the CO-RE relocation.
        var all = CliRunner.Run("object", "load", TestEnvironment.Bpf("core_flavors"), "--all");
        Assert.Matches(@"^  read_state            tp/syscalls/sys_enter_getpid   tracepoint  loaded \(\d+ insns, id \d+\)$", ProgramLine(all, "read_state"));
        string unguarded = ProgramLine(all, "read_state_unguarded");
        if (Ebpf.Kernel.KernelInfo.VersionCode < (5u << 16 | 14u << 8))
        {
            Assert.Equal(0, all.ExitCode);
            Assert.Contains(" loaded (", unguarded);
            return;
        }
        Assert.Equal(1, all.ExitCode);
        Assert.Contains("FAILED: the verifier reached instruction #", unguarded);
        Assert.Contains("CO-RE relocation #0 (byte_off) of field task_struct___pre514.state", unguarded);
    }

    [Fact]
    public void BigEndianObjectIsRefused()
    {
        string be = TestEnvironment.Bpf("globals.bpfeb.o");
        var r = CliRunner.Run("object", "load", be);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.StartsWith($"dotnet-ebpf: {be}: the object is big-endian (clang -target bpfeb) but this machine is little-endian: libbpf refuses it", r.StdErr);
        Assert.Equal(1, r.StdErr.Count(c => c == '\n'));
    }

    [Theory]
    [InlineData("broken/notelf.bin", "ELF: at offset 0x0 (0): not an ELF file (bad magic)")]
    [InlineData("broken/truncated.bpf.o", "ELF: at offset 0x28 (40): section header table offset 0x9bb98 is beyond the end of the input")]
    public void FormatErrorsNameTheFileAndOffset(string name, string message)
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "bpf", name);
        var r = CliRunner.Run("object", "load", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.StartsWith($"dotnet-ebpf: {path}: {message}", r.StdErr);
        Assert.Equal(1, r.StdErr.Count(c => c == '\n'));
        Assert.DoesNotContain("   at ", r.StdErr);
    }

    [Fact]
    public void MissingFiles()
    {
        var r = CliRunner.Run("object", "load", "/nonexistent/x.bpf.o");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("dotnet-ebpf: /nonexistent/x.bpf.o: no such file\n", r.StdErr);

        var btf = CliRunner.Run("object", "load", TestEnvironment.Bpf("globals"), "--target-btf", "/nonexistent.btf.gz");
        Assert.Equal(1, btf.ExitCode);
        Assert.Equal("dotnet-ebpf: /nonexistent.btf.gz: no such file\n", btf.StdErr);

        Assert.Equal(2, CliRunner.Run("object", "load").ExitCode);
    }

    [Fact]
    public void SeveralObjectsContinuePastABadOne()
    {
        TestEnvironment.RequireRoot();
        string notelf = Path.Combine(TestEnvironment.RepoRoot, "bpf", "broken", "notelf.bin");
        var r = CliRunner.Run("object", "load", notelf, TestEnvironment.Bpf("globals"));
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"dotnet-ebpf: {notelf}: ELF: at offset 0x0 (0)", r.StdErr);
        Assert.Contains("globals.bpf.o (kernel ", r.StdOut);
        Assert.Contains("OK, 2 programs loaded", r.StdOut);
    }

    [Fact]
    public void CoreObjectLoadsAgainstAStoredKernelBtf()
    {
        TestEnvironment.RequireRoot();
        // CO-RE against Debian 6.1's layout on this kernel: relocation succeeds, the result reaches the verifier.
        string btf = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz");
        var r = CliRunner.Run("object", "load", TestEnvironment.Bpf("core_comm"), "--target-btf", btf, "--json");
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal(btf, doc.RootElement.GetProperty("target_btf").GetString());
        var p = Program(doc.RootElement, "handle_getpid");
        Assert.Contains(p.GetProperty("status").GetString(), new List<string> { "loaded", "failed" });
        Assert.Equal(p.GetProperty("status").GetString() == "loaded" ? 0 : 1, r.ExitCode);
    }
}
