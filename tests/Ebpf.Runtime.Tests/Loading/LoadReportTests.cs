using System;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// Structured load outcomes (<see cref="BpfObject.LoadReport"/>): per map created, pinned, reused, skipped or failed,
/// per program loaded, skipped or failed with the typed error and the verifier's log; after a failed load too. And
/// the continue-on-failure mode: what can load loads and is usable, the rest is reported, nothing leaks.
/// </summary>
[Collection(FdAccountingCollection.Name)]
public class LoadReportTests
{
    [Fact]
    public void ASuccessfulLoadReportsEveryMapAndProgram()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals"));
        Assert.Null(obj.LoadReport);
        obj.Load();
        var report = Assert.IsType<BpfLoadReport>(obj.LoadReport);
        Assert.True(report.Succeeded);
        Assert.Null(report.Error);
        Assert.Equal(BpfLoadMode.StopAtFirstFailure, report.Mode);
        Assert.Equal(obj.Maps.Select(m => m.Name), report.Maps.Select(m => m.Name));
        foreach (var m in report.Maps)
        {
            Assert.Equal(BpfMapLoadStatus.Created, m.Status);
            Assert.Equal(m.Map.Id, m.Id);
            Assert.NotEqual(0u, m.Id);
            Assert.Null(m.Error);
        }
        foreach (var p in report.Programs)
        {
            Assert.Equal(BpfProgramLoadStatus.Loaded, p.Status);
            Assert.Equal(p.Program.Id, p.Id);
            Assert.True(p.InstructionCount > 0);
            Assert.Null(p.Error);
            Assert.Null(p.VerifierLog);
        }
        Assert.Same(report.GetProgram("run"), report.Programs.Single(p => p.Name == "run"));
    }

    [Fact]
    public void AutoloadOffIsSkippedAndAVerifierLogAskedForIsKept()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_flavors"));
        obj.GetProgram("read_state").VerifierLogLevel = 1;
        var report = obj.Load(BpfLoadMode.StopAtFirstFailure);
        Assert.Equal(BpfProgramLoadStatus.Skipped, report.GetProgram("read_state_unguarded").Status);
        Assert.Equal(0u, report.GetProgram("read_state_unguarded").Id);
        var loaded = report.GetProgram("read_state");
        Assert.Equal(BpfProgramLoadStatus.Loaded, loaded.Status);
        Assert.Contains("processed ", loaded.VerifierLog);
        Assert.True(report.Succeeded);
    }

    [Fact]
    public void AFailedLoadStillReportsHowFarItWent()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
        var e = Assert.Throws<BpfVerifierException>(obj.Load);
        var report = Assert.IsType<BpfLoadReport>(obj.LoadReport);
        Assert.Same(e, report.Error);
        Assert.False(report.Succeeded);
        var bad = report.GetProgram("bad_oob");
        Assert.Equal(BpfProgramLoadStatus.Failed, bad.Status);
        Assert.Same(e, bad.Error);
        Assert.Contains("unbounded memory access", bad.VerifierLog);
        // The map was made before the refusal, and closed with everything else.
        var table = report.GetMap("table");
        Assert.Equal(BpfMapLoadStatus.Created, table.Status);
        Assert.NotEqual(0u, table.Id);
        Assert.False(table.Map.IsLoaded);
        Assert.False(obj.IsLoaded);
        Assert.All(report.Programs.Where(p => p != bad), p => Assert.Contains(p.Status, new[] { BpfProgramLoadStatus.Loaded, BpfProgramLoadStatus.NotAttempted }));
    }

    [Fact]
    public void ContinuingOnFailureLoadsTheRestAndLeavesItUsable()
    {
        TestEnvironment.RequireRoot();
        using (BpfObject.Load(TestEnvironment.Bpf("calls"))) { } // warm the per-process caches
        int before = TestEnvironment.BaselineFdCount();
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject")))
        {
            var report = obj.Load(BpfLoadMode.ContinueOnFailure);
            Assert.Same(report, obj.LoadReport);
            Assert.True(obj.IsLoaded);
            Assert.False(report.Succeeded);
            Assert.Null(report.Error);
            var bad = report.GetProgram("bad_oob");
            Assert.Equal(BpfProgramLoadStatus.Failed, bad.Status);
            var v = Assert.IsType<BpfVerifierException>(bad.Error);
            Assert.Equal("bad_oob", v.ProgramName);
            Assert.Equal("verifier_reject", v.ObjectName);
            Assert.Contains("unbounded memory access", bad.VerifierLog);
            Assert.False(bad.Program.IsLoaded);

            var good = report.GetProgram("good_checked");
            Assert.Equal(BpfProgramLoadStatus.Loaded, good.Status);
            Assert.True(good.Program.IsLoaded);
            Assert.Equal(BpfMapLoadStatus.Created, report.GetMap("table").Status);
            // The loaded program runs: idx 3 is in bounds, so it counts and returns the new value.
            Assert.Equal(1u, good.Program.RunOnce(3).ReturnValue);
        }
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void AFailedMapFailsTheProgramsThatUseItAndOnlyThose()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireBpffs();
        int before = TestEnvironment.BaselineFdCount();
        using (var pins = BpfFs.CreateTemporaryDirectory("ebpf-test-report-"))
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = pins.Path }))
        {
            obj.GetMap("lpm_map").MaxEntries = 0; // the kernel refuses an LPM trie without entries (EINVAL)
            obj.GetMap("perf_map").AutoCreate = false;
            var report = obj.Load(BpfLoadMode.ContinueOnFailure);
            Assert.True(obj.IsLoaded);

            var lpm = report.GetMap("lpm_map");
            Assert.Equal(BpfMapLoadStatus.Failed, lpm.Status);
            var mapError = Assert.IsType<BpfSyscallException>(lpm.Error);
            Assert.Equal(BpfCommand.MapCreate, mapError.Command);
            Assert.Equal(Errno.EINVAL, mapError.Errno);
            Assert.Equal("lpm_map", mapError.MapName);
            Assert.Equal("maps", mapError.ObjectName);
            Assert.False(lpm.Map.IsLoaded);
            Assert.Equal(BpfMapLoadStatus.Skipped, report.GetMap("perf_map").Status);

            var pinned = report.GetMap("pinned_map");
            Assert.Equal(BpfMapLoadStatus.Pinned, pinned.Status);
            Assert.Equal(pins.Path + "/pinned_map", pinned.PinPath);

            // The tracepoint program uses lpm_map: it fails naming the program and the map, with the map's error inside.
            var count = report.Programs.Single(p => p.Program.SectionName.StartsWith("tp/", StringComparison.Ordinal));
            Assert.Equal(BpfProgramLoadStatus.Failed, count.Status);
            Assert.Equal(count.Name, count.Error!.ProgramName);
            Assert.Equal("lpm_map", count.Error.MapName);
            Assert.Same(mapError, count.Error.InnerException);
            Assert.Null(count.VerifierLog);

            // The XDP driver uses neither: it loads and runs.
            var fill = report.GetProgram("fill");
            Assert.Equal(BpfProgramLoadStatus.Loaded, fill.Status);
            Assert.Equal(0u, fill.Program.RunOnce().ReturnValue);

            // A second object reuses the pinned map.
            using var again = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = pins.Path });
            again.GetMap("lpm_map").MaxEntries = 0;
            var second = again.Load(BpfLoadMode.ContinueOnFailure);
            Assert.Equal(BpfMapLoadStatus.Reused, second.GetMap("pinned_map").Status);
            Assert.Equal(pinned.Id, second.GetMap("pinned_map").Id);
        }
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void ContinuingOnFailureACoReFailureFailsOnlyTheProgramsThatNeedIt()
    {
        TestEnvironment.RequireRoot();
        // Against Debian 6.1's BTF, read_state_unguarded's relocation of task_struct___pre514.state cannot resolve.
        string btf = System.IO.Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz");
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_flavors"), new BpfObjectOptions { TargetBtfPath = btf, StrictCoreRelocations = true });
        obj.GetProgram("read_state_unguarded").Autoload = true;
        obj.GetProgram("read_state").Autoload = false;
        var report = obj.Load(BpfLoadMode.ContinueOnFailure);
        var unguarded = report.GetProgram("read_state_unguarded");
        Assert.Equal(BpfProgramLoadStatus.Failed, unguarded.Status);
        var e = Assert.IsType<BpfCoreRelocationException>(unguarded.Error);
        Assert.Equal("read_state_unguarded", e.ProgramName);
        Assert.Equal("task_struct___pre514.state", e.CoreAccess!.FieldPath);
        Assert.Equal(BpfProgramLoadStatus.Skipped, report.GetProgram("read_state").Status);
        Assert.All(report.Maps, m => Assert.Equal(BpfMapLoadStatus.Created, m.Status));
    }

    [Fact]
    public void AFailureOfTheWholeObjectIsReportedAndLeavesNothingLoaded()
    {
        using var obj = BpfObject.Open(TestEnvironment.Bpf("globals.bpfeb.o"));
        var report = obj.Load(BpfLoadMode.ContinueOnFailure);
        Assert.False(obj.IsLoaded);
        Assert.NotNull(report.Error);
        Assert.Equal("globals", report.Error!.ObjectName);
        Assert.Contains("big-endian", report.Error.Message);
        Assert.All(report.Maps, m => Assert.Equal(BpfMapLoadStatus.NotAttempted, m.Status));
        Assert.All(report.Programs, p => Assert.Equal(BpfProgramLoadStatus.NotAttempted, p.Status));
        Assert.Throws<BpfException>(() => obj.Load());
    }
}
