using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// Every object in bpf/ this kernel supports loads; the others fail with the precise reason: an object that needs a
/// kernel feature this kernel lacks fails with <see cref="BpfNotSupportedException"/> naming the feature and the first
/// Linux release with it (and the test skips with that reason), exactly where libbpf fails too.
/// </summary>
public class LoadEveryObjectTests
{
    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (var path in TestEnvironment.AllBpfObjects())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void ObjectLoadsOrFailsWithItsReason(string file)
    {
        TestEnvironment.RequireRoot();
        // Maps pinned by name go to a private directory on bpffs, removed afterwards, so no pin outlives the test.
        string? pinRoot = null;
        if (file == "maps.bpf.o")
        {
            TestEnvironment.RequireBpffs();
            pinRoot = "/sys/fs/bpf/ebpf-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
            Directory.CreateDirectory(pinRoot);
        }
        try
        {
            LoadOrExplain(file, pinRoot);
        }
        finally
        {
            if (pinRoot != null) Directory.Delete(pinRoot, recursive: true);
        }
    }

    private static void LoadOrExplain(string file, string? pinRoot)
    {
        using var obj = BpfObject.Open(TestEnvironment.Bpf(file), new BpfObjectOptions { PinRoot = pinRoot });
        switch (file)
        {
            case "globals.bpfeb.o":
            {
                var e = Assert.Throws<BpfException>(obj.Load);
                Assert.Contains("big-endian", e.Message);
                return;
            }
            case "verifier_reject.bpf.o":
            {
                var e = Assert.Throws<BpfVerifierException>(obj.Load);
                Assert.Equal("bad_oob", e.ProgramName);
                Assert.NotEmpty(e.VerifierLog);
                return;
            }
            case "attach_fentry.bpf.o":
            case "attach_lsm.bpf.o":
            {
                // This kernel refuses BPF trampolines (EPERM even for root): the loader names the feature; other kernels load these.
                try
                {
                    obj.Load();
                }
                catch (BpfNotSupportedException e) when (e.Errno == Errno.EPERM && e.Command == BpfCommand.ProgLoad)
                {
                    Assert.Contains("the kernel itself refuses", e.Message);
                    Assert.Skip($"{file}: {e.Message}");
                }
                Assert.All(obj.Programs, p => Assert.True(p.IsLoaded));
                return;
            }
            case "externs.bpf.o":
                ExternTests.RequireKernelConfig();
                break;
            case "kfuncs.bpf.o":
                ExternTests.RequireKfuncKernel();
                break;
            case "struct_ops_tcp_link.bpf.o":
                // .struct_ops.link maps need Linux 6.4: older kernels are named by the loader.
                try
                {
                    obj.Load();
                }
                catch (BpfNotSupportedException e)
                {
                    Assert.Equal("6.4", e.MinimumKernel);
                    Assert.Skip($"{file}: {e.Message}");
                }
                break;
        }
        try
        {
            if (!obj.IsLoaded)
                obj.Load();
        }
        catch (BpfNotSupportedException e)
        {
            Assert.False(obj.IsLoaded);
            Assert.Contains(e.Feature, e.Message);
            if (!e.IsConfiguration)
                Assert.Matches(@"^\d+\.\d+$", e.MinimumKernel);
            Assert.Skip($"{file}: {e.Message}");
        }
        Assert.True(obj.IsLoaded);
        foreach (var p in obj.Programs)
        {
            Assert.Equal(p.Autoload, p.IsLoaded);
            if (p.IsLoaded)
            {
                Assert.True(p.Id > 0);
                Assert.True(p.InstructionCount >= p.Spec!.Function.InstructionCount);
            }
        }
        foreach (var m in obj.Maps)
        {
            // Maps not created by default (SEC("?.struct_ops")) stay so.
            Assert.True(m.IsLoaded == m.AutoCreate, $"map {m.Name} {(m.IsLoaded ? "created although AutoCreate is off" : "not created")}");
            Assert.True(!m.IsLoaded || m.Id > 0);
        }
    }

    /// <summary>
    /// The decision per object, against libbpf 1.1 on this kernel: `bpftool prog loadall` (in a private mount
    /// namespace with a bpffs of its own, so that its pins vanish with it) loads an object exactly where this loader
    /// does. The known differences are libbpf 1.1's, and named: it does not know the tcx/ sections (attach_net), the
    /// .struct_ops.link and ?.struct_ops sections and flavoured struct_ops types (struct_ops_tcp_link,
    /// struct_ops_edge); and bpftool fails after a successful load when it cannot pin programs that are not
    /// autoloaded ("?" sections), which counts as loaded. Where the loader refuses an object, its error is a feature named with its release, a
    /// verifier refusal or one of the deliberate failures.
    /// </summary>
    [Fact]
    public void LoadsExactlyWhereLibbpfLoads()
    {
        TestEnvironment.RequireBpffs();
        string bpftool = TestEnvironment.RequireTool("bpftool", "bpftool");
        string unshare = TestEnvironment.RequireTool("unshare", "util-linux");
        var rows = new List<string>();
        var problems = new List<string>();
        foreach (var path in TestEnvironment.AllBpfObjects())
        {
            string file = Path.GetFileName(path);
            var (code, _, stderr) = TestEnvironment.Run(unshare, new[] { "-m", "--propagation", "private", "sh", "-c",
                "mount -t bpf bpf /sys/fs/bpf && exec \"$0\" prog loadall \"$1\" /sys/fs/bpf/loadall", bpftool, path });
            bool libbpf = code == 0 || stderr.Contains("failed to pin all programs", StringComparison.Ordinal);
            string libbpfWhy = libbpf ? "loads" : LastLine(stderr);

            string? pinRoot = file == "maps.bpf.o" ? "/sys/fs/bpf/ebpf-test-" + Guid.NewGuid().ToString("N").Substring(0, 12) : null;
            if (pinRoot != null) Directory.CreateDirectory(pinRoot);
            bool ours;
            string oursWhy;
            try
            {
                using var obj = BpfObject.Load(path, new BpfObjectOptions { PinRoot = pinRoot });
                ours = true;
                oursWhy = "loads";
            }
            catch (Exception e) when (e is BpfException or BpfFormatException)
            {
                ours = false;
                oursWhy = $"{e.GetType().Name}: {e.Message}";
                bool explained = e is BpfNotSupportedException or BpfVerifierException or BpfCoreRelocationException
                    || file == "globals.bpfeb.o" // foreign endianness, refused by both
                    || (file == "kfuncs.bpf.o" && e.Message.Contains("not found in the kernel's BTF", StringComparison.Ordinal));
                if (!explained)
                    problems.Add($"{file}: refused without naming a kernel feature: {oursWhy}");
            }
            finally
            {
                if (pinRoot != null) Directory.Delete(pinRoot, recursive: true);
            }
            // libbpf 1.1 predates the tcx/ sections (attach_net), .struct_ops.link and ?.struct_ops sections and
            // flavoured struct_ops types (struct_ops_tcp_link, struct_ops_edge): there the object's own kernel needs decide.
            bool expected = file is "attach_net.bpf.o" or "struct_ops_tcp_link.bpf.o" or "struct_ops_edge.bpf.o" ? ours : libbpf;
            if (ours != expected)
                problems.Add($"{file}: this loader {(ours ? "loads it" : "refuses it")}, libbpf 1.1 {(libbpf ? "loads it" : "refuses it")} ({libbpfWhy}); ours: {oursWhy}");
            rows.Add($"{file,-26} libbpf {(libbpf ? "loads " : "fails ")} ours {(ours ? "loads" : "fails: " + oursWhy)}");
        }
        string table = string.Join(Environment.NewLine, rows);
        TestContext.Current.TestOutputHelper?.WriteLine(table);
        if (Environment.GetEnvironmentVariable("EBPF_LOADALL_LOG") is { Length: > 0 } log)
            File.AppendAllText(log, $"kernel {Ebpf.Kernel.KernelInfo.Release}{Environment.NewLine}{table}{Environment.NewLine}");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var useful = lines.Where(l => !l.StartsWith("Warning: bpftool is now running", StringComparison.Ordinal) && !l.StartsWith("If it used to work", StringComparison.Ordinal)).ToArray();
        return useful.Length > 0 ? useful[^1] : text.Trim();
    }

    [Fact]
    public void VerifierRejectionCarriesTheFullLog()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
        var e = Assert.Throws<BpfVerifierException>(obj.Load);
        Assert.Equal(BpfCommand.ProgLoad, e.Command);
        Assert.Equal(Errno.EACCES, e.Errno);
        // The kernel's own words, the instruction listing and the final statistics line are all there.
        Assert.Contains("unbounded memory access", e.VerifierLog);
        Assert.Contains("processed ", e.VerifierLog);
        Assert.Contains("unbounded memory access", e.Message);
        Assert.Contains("bad_oob", e.Message);
    }

    [Fact]
    public void AutoloadOffLeavesTheProgramUnloadedAndTheRestLoads()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
        obj.GetProgram("bad_oob").Autoload = false;
        obj.Load();
        Assert.False(obj.GetProgram("bad_oob").IsLoaded);
        Assert.True(obj.GetProgram("good_checked").IsLoaded);
        var ex = Assert.Throws<InvalidOperationException>(() => obj.GetProgram("bad_oob").Handle);
        Assert.Contains("Autoload is false", ex.Message);
    }

    [Fact]
    public void VerifierLogIsKeptWhenRequested()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("calls"), new BpfObjectOptions { VerifierLogLevel = 2 });
        obj.Load();
        var log = obj.GetProgram("calls_b").VerifierLog;
        Assert.NotNull(log);
        Assert.Contains("processed ", log);
    }

    [Fact]
    public void LoadingTwiceIsAnError()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("calls"));
        obj.Load();
        Assert.Throws<InvalidOperationException>(obj.Load);
    }

    [Fact]
    public void ObjectsAreReachableByNameWithoutASkeleton()
    {
        using var obj = BpfObject.Open(TestEnvironment.Bpf("exec_snoop"));
        Assert.Equal("exec_snoop", obj.Name);
        Assert.Equal(BpfMapType.Ringbuf, obj.GetMap("rb").Type);
        Assert.Equal(BpfMapType.Hash, obj.GetMap("exec_start").Type);
        var p = obj.GetProgram("handle_exec");
        Assert.Equal("tp/sched/sched_process_exec", p.SectionName);
        Assert.Equal(BpfProgramType.Tracepoint, p.Type);
        Assert.Equal(".rodata", obj.GetDataSection(".rodata").SectionName);
        var missing = Assert.Throws<KeyNotFoundException>(() => obj.GetMap("nope"));
        Assert.Contains("exec_start", missing.Message);
        Assert.Throws<KeyNotFoundException>(() => obj.GetProgram("nope"));
        Assert.Throws<KeyNotFoundException>(() => obj.GetDataSection(".data"));
    }
}
