using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;

namespace Ebpf.Objects.Tests.Core;

/// <summary>
/// Compares every CO-RE decision on every object in bpf/ (and bpf/arm64/) with libbpf's own (tests/oracle/core-oracle,
/// libbpf 1.1.2 with --keep-going), for the running kernel and each stored kernel BTF (x86-64 and arm64), field by
/// field.
/// </summary>
public class CoreOracleTests
{
    private const string RunningKernel = "running";

    /// <summary>The adversarial objects of this directory (Core/Data, rebuilt by Core/Data/build.sh).</summary>
    internal static string DataDir => Path.Combine(CoreTestUtil.RepoRoot, "tests", "Ebpf.Objects.Tests", "Core", "Data");

    private static string Relative(string path) =>
        path.StartsWith(CoreTestUtil.RepoRoot + "/", StringComparison.Ordinal) ? path.Substring(CoreTestUtil.RepoRoot.Length + 1) : path;

    private static List<string> Objects()
    {
        var objects = new List<string>();
        if (Directory.Exists(CoreTestUtil.BpfDir))
            objects.AddRange(Directory.GetFiles(CoreTestUtil.BpfDir, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal));
        // The arm64 variants of the objects whose C depends on the architecture (pt_regs, syscall wrappers).
        string arm64 = Path.Combine(CoreTestUtil.BpfDir, "arm64");
        if (Directory.Exists(arm64))
            objects.AddRange(Directory.GetFiles(arm64, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal));
        if (Directory.Exists(DataDir))
            objects.AddRange(Directory.GetFiles(DataDir, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal));
        // More objects to compare (e.g. hand-made ones): EBPF_CORE_ORACLE_OBJECTS=dir1:dir2
        var extra = Environment.GetEnvironmentVariable("EBPF_CORE_ORACLE_OBJECTS");
        if (!string.IsNullOrEmpty(extra))
        {
            foreach (var dir in extra!.Split(':'))
            {
                if (Directory.Exists(dir))
                    objects.AddRange(Directory.GetFiles(dir, "*.o").OrderBy(x => x, StringComparer.Ordinal));
            }
        }
        return objects;
    }

    private static List<string> StoredKernels() =>
        Directory.Exists(CoreTestUtil.KernelBtfDir)
            ? Directory.GetFiles(CoreTestUtil.KernelBtfDir, "*.btf.gz").Select(f => Path.GetFileName(f)!).OrderBy(x => x, StringComparer.Ordinal).ToList()
            : new List<string>();

    /// <summary>Every object × (running kernel, each stored kernel): compared with a live run of the oracle.</summary>
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        try
        {
            _ = CoreTestUtil.RepoRoot;
        }
        catch (InvalidOperationException)
        {
            return data;
        }
        var targets = new List<string> { RunningKernel };
        targets.AddRange(StoredKernels());
        foreach (var o in Objects())
            foreach (var t in targets)
                data.Add(Relative(o), t);
        return data;
    }

    /// <summary>The Core/Data objects × stored kernels, compared with libbpf's recorded decisions (Core/Data/oracle): no root needed.</summary>
    public static TheoryData<string, string> RecordedCases()
    {
        var data = new TheoryData<string, string>();
        try
        {
            _ = CoreTestUtil.RepoRoot;
        }
        catch (InvalidOperationException)
        {
            return data;
        }
        if (!Directory.Exists(DataDir))
            return data;
        foreach (var o in Directory.GetFiles(DataDir, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal))
            foreach (var k in StoredKernels())
                data.Add(Path.GetFileName(o)!, k);
        return data;
    }

    /// <summary>Objects with SEC("?...") programs × stored kernels: compared with libbpf honouring autoload.</summary>
    public static TheoryData<string, string> AutoloadCases()
    {
        var data = new TheoryData<string, string>();
        try
        {
            _ = CoreTestUtil.RepoRoot;
        }
        catch (InvalidOperationException)
        {
            return data;
        }
        foreach (var o in Objects())
        {
            Ebpf.Elf.ElfFile elf;
            try
            {
                elf = Ebpf.Elf.ElfFile.Parse(File.ReadAllBytes(o));
            }
            catch (BpfFormatException)
            {
                continue;
            }
            if (!elf.Sections.Any(sec => sec.Name.StartsWith("?", StringComparison.Ordinal) && sec.IsExecutable))
                continue;
            foreach (var k in StoredKernels())
                data.Add(Relative(o), k);
        }
        return data;
    }

    /// <summary>
    /// With libbpf's autoload rule (programs in SEC("?...") are not loaded): their records are skipped and do not
    /// prune the candidate cache.
    /// </summary>
    [Theory]
    [MemberData(nameof(AutoloadCases))]
    public void DecisionsEqualLibbpfWithAutoload(string objectPath, string kernel)
    {
        var obj = CoreTestUtil.LoadObject(Path.IsPathRooted(objectPath) ? objectPath : Path.Combine(CoreTestUtil.RepoRoot, objectPath));
        if (obj == null || obj.CoreRecordCount == 0)
            return;
        if (!File.Exists(OraclePath))
            Assert.Skip($"{OraclePath} is not built (make -C tests/oracle; needs libbpf-dev, libelf-dev, zlib1g-dev)");
        string btf = Path.Combine(CoreTestUtil.KernelBtfDir, kernel);
        var oracle = RunOracle(obj.Path, btf, "--respect-autoload");
        var autoload = obj.Elf.Symbols.Where(sym => sym.Type == Ebpf.Elf.ElfSymbolType.Func && sym.SectionIndex < obj.Elf.Sections.Count)
            .GroupBy(sym => sym.Name)
            .ToDictionary(g => g.Key, g => !obj.Elf.Sections[g.First().SectionIndex].Name.StartsWith("?", StringComparison.Ordinal));
        var cache = new CoreCandidateCache(CoreTestUtil.StoredKernel(btf));
        var mine = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, cache, name => autoload.TryGetValue(name, out bool on) && on, TestContext.Current.CancellationToken);
        Assert.Contains(mine.Results, r => r.Status == CoreRelocationStatus.Skipped);
        Compare(Path.GetFileName(objectPath) + " (autoload)", kernel, obj, mine, oracle);
    }

    [Theory]
    [MemberData(nameof(RecordedCases))]
    public void DecisionsEqualRecordedLibbpfDecisions(string objectName, string kernel)
    {
        string kernelName = kernel.Substring(0, kernel.Length - ".btf.gz".Length);
        string recorded = Path.Combine(DataDir, "oracle", Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(objectName)) + "@" + kernelName + ".jsonl");
        if (!File.Exists(recorded))
            Assert.Skip($"no recorded libbpf output {recorded} (regenerate with Core/Data/build.sh)");
        var obj = CoreTestUtil.LoadObject(Path.Combine(DataDir, objectName))!;
        var oracle = File.ReadAllLines(recorded).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var targets = CoreTestUtil.StoredKernel(Path.Combine(CoreTestUtil.KernelBtfDir, kernel));
        Compare(objectName, kernel, obj, targets, oracle);
    }

    private static string OraclePath => Path.Combine(CoreTestUtil.RepoRoot, "tests", "oracle", "core-oracle");

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecisionsEqualLibbpf(string objectPath, string target)
    {
        string objectName = Path.GetFileName(objectPath);
        var obj = CoreTestUtil.LoadObject(Path.IsPathRooted(objectPath) ? objectPath : Path.Combine(CoreTestUtil.RepoRoot, objectPath));
        if (obj == null || obj.CoreRecordCount == 0)
        {
            // Nothing to compare: the object has no CO-RE relocations.
            return;
        }
        if (!File.Exists(OraclePath))
            Assert.Skip($"{OraclePath} is not built (make -C tests/oracle; needs libbpf-dev, libelf-dev, zlib1g-dev)");

        CoreTargets? targets;
        string? targetArg = null;
        if (target == RunningKernel)
        {
            targets = CoreTestUtil.RunningKernel();
            if (targets == null)
                Assert.Skip($"the running kernel exposes no BTF at {CoreTestUtil.RunningKernelBtf}");
        }
        else
        {
            targetArg = Path.Combine(CoreTestUtil.KernelBtfDir, target);
            targets = CoreTestUtil.StoredKernel(targetArg);
        }

        var oracle = RunOracle(obj.Path, targetArg);
        Compare(objectName, target, obj, targets!, oracle);
    }

    private static void Compare(string objectName, string target, CoreTestUtil.LoadedObject obj, CoreTargets targets, List<JsonElement> oracle) =>
        Compare(objectName, target, obj, CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, targets, TestContext.Current.CancellationToken), oracle);

    private static void Compare(string objectName, string target, CoreTestUtil.LoadedObject obj, CoreRelocationReport mine, List<JsonElement> oracle)
    {

        var byKey = mine.Results.ToDictionary(r => (r.Section, r.RecordIndex));
        Assert.Equal(oracle.Count, mine.Results.Count);
        var diffs = new List<string>();
        int compared = 0;
        foreach (var o in oracle)
        {
            string section = o.GetProperty("section").GetString()!;
            int relo = o.GetProperty("relo").GetInt32();
            if (!byKey.TryGetValue((section, relo), out var r))
            {
                diffs.Add($"{section} relo #{relo}: missing on the C# side");
                continue;
            }
            compared++;
            CompareRecord(o, r, diffs);
        }
        System.Threading.Interlocked.Add(ref s_compared, compared);
        TestContext.Current.SendDiagnosticMessage($"{objectName} vs {target}: {compared} relocations compared with libbpf");
        var log = Environment.GetEnvironmentVariable("EBPF_CORE_ORACLE_LOG");
        if (!string.IsNullOrEmpty(log))
        {
            lock (LogLock)
                File.AppendAllText(log, $"{objectName}\t{target}\t{compared}\t{mine.Results.Count(r => r.Poisoned)} poisoned\t{mine.Results.Count(r => r.IsFatal)} failed\t{diffs.Count} diffs\n");
        }
        Assert.True(diffs.Count == 0, $"{objectName} vs {target} ({mine.TargetLabel}): {diffs.Count} difference(s) from libbpf:\n" + string.Join("\n", diffs));
    }

    private static int s_compared;
    private static readonly object LogLock = new object();

    private static void CompareRecord(JsonElement o, CoreRelocationResult r, List<string> diffs)
    {
        string where = $"{r.Section} relo #{r.RecordIndex} ({r.Kind.ToShortName()} {r.LocalTypeName} {r.AccessString})";
        void Check<T>(string field, T expected, T actual)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                diffs.Add($"{where}: {field}: libbpf {Show(expected)}, C# {Show(actual)}");
        }

        string status = o.GetProperty("status").GetString()!;
        if (status == "not_reached")
        {
            diffs.Add($"{where}: libbpf never reached it: {o.GetProperty("error").GetString()}");
            return;
        }
        var expectedStatus = status switch
        {
            "ok" => CoreRelocationStatus.Applied,
            "poisoned" => CoreRelocationStatus.Poisoned,
            "error" => CoreRelocationStatus.Failed,
            "skipped" => CoreRelocationStatus.Skipped,
            _ => (CoreRelocationStatus)(-1),
        };
        Check("status", expectedStatus, r.Status);
        Check("program", Str(o, "program"), r.Program);
        Check("insn", o.GetProperty("insn").GetInt32(), r.InstructionIndex);
        Check("kind", o.GetProperty("kind").GetString(), r.Kind.ToShortName());
        Check("type", o.GetProperty("type").GetString(), r.LocalTypeName);
        Check("spec", o.GetProperty("spec").GetString(), r.AccessString);
        Check("old", Long(o, "old"), r.OldValue);
        Check("new", Long(o, "new"), r.NewValue);
        Check("poisoned", o.GetProperty("poisoned").GetBoolean(), r.Poisoned);
        Check("error != null", o.GetProperty("error").ValueKind != JsonValueKind.Null, r.IsFatal);
        if (status == "error")
        {
            var m = System.Text.RegularExpressions.Regex.Match(o.GetProperty("error").GetString()!, @"\(libbpf error (-?[0-9]+)");
            if (m.Success)
                Check("errno", (int?)int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), r.Errno);
        }
        if (o.TryGetProperty("prog_insn", out var pi) && pi.ValueKind == JsonValueKind.Number && r.Status != CoreRelocationStatus.Skipped)
            Check("prog_insn", (int?)pi.GetInt32(), r.ProgramInstructionIndex);
        if (o.TryGetProperty("old_size", out var os) && os.ValueKind == JsonValueKind.Number)
            Check("old_size", (int?)os.GetInt32(), r.OldMemorySize);
        if (o.TryGetProperty("new_size", out var ns))
            Check("new_size", ns.ValueKind == JsonValueKind.Number ? ns.GetInt32() : (int?)null, r.NewMemorySize);
        if (o.TryGetProperty("local_spec", out var ls) && ls.ValueKind == JsonValueKind.String)
            Check("local_spec", ls.GetString(), r.LocalSpec);
        if (o.TryGetProperty("target_spec", out var ts))
            Check("target_spec", ts.ValueKind == JsonValueKind.String ? ts.GetString() : null, r.TargetSpec);
        if (o.TryGetProperty("target_type_id", out var tt))
            Check("target_type_id", tt.ValueKind == JsonValueKind.Number ? tt.GetInt32() : (int?)null, r.TargetTypeId);
        if (o.TryGetProperty("candidates", out var cands) && cands.ValueKind == JsonValueKind.Number)
            Check("candidates", cands.GetInt32(), r.Candidates.Count);
        if (o.TryGetProperty("matched", out var matched) && matched.ValueKind == JsonValueKind.Array && r.Resolution != null)
            Check("matched", string.Join(",", matched.EnumerateArray().Select(m => m.GetInt32())), string.Join(",", r.Matched.Select(m => m.TypeId)));
        if (o.TryGetProperty("res", out var res) && r.Resolution != null)
        {
            var x = r.Resolution;
            Check("res.orig_val", res.GetProperty("orig_val").GetUInt64(), x.LocalValue);
            Check("res.poison", res.GetProperty("poison").GetBoolean(), x.Poison);
            Check("res.validate", res.GetProperty("validate").GetBoolean(), x.Validate);
            if (!x.Poison)
            {
                Check("res.new_val", res.GetProperty("new_val").GetUInt64(), x.TargetValue);
                Check("res.fail_memsz_adjust", res.GetProperty("fail_memsz_adjust").GetBoolean(), x.FailMemorySizeAdjust);
                Check("res.orig_sz", res.GetProperty("orig_sz").GetUInt32(), x.LocalSize);
                Check("res.new_sz", res.GetProperty("new_sz").GetUInt32(), x.TargetSize);
            }
        }
        else if (o.TryGetProperty("res", out _) && r.Resolution == null)
        {
            diffs.Add($"{where}: libbpf computed a result, C# failed: {r.Error}");
        }
    }

    private static string Show<T>(T v) => v switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        _ => v.ToString() ?? "null",
    };

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static long? Long(JsonElement o, string name) =>
        o.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : null;

    private static List<JsonElement> RunOracle(string objectPath, string? targetBtf, params string[] extraArgs)
    {
        var args = new List<string> { objectPath, "--keep-going" };
        args.AddRange(extraArgs);
        if (targetBtf != null)
        {
            args.Add("--target-btf");
            args.Add(targetBtf);
        }
        int exit;
        string stdout, stderr;
        try
        {
            (exit, stdout, stderr) = Ebpf.Tests.TestEnvironment.Run(OraclePath, args);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception || e is IOException)
        {
            Assert.Skip($"cannot run {OraclePath}: {e.Message}");
            throw;
        }
        bool unprivileged = Environment.UserName != "root" || stderr.Contains("relocation (-1)", StringComparison.Ordinal);
        if (exit == 3 && unprivileged)
            Assert.Skip($"core-oracle needs root (or CAP_BPF + CAP_PERFMON) and a working bpf() syscall: libbpf's bpf_object__load failed with EPERM before CO-RE ran ({FirstLine(stderr)})");
        if (exit == 3)
            Assert.Skip($"libbpf's bpf_object__load failed before CO-RE relocation for {Path.GetFileName(objectPath)} (core-oracle exit 3): {FirstLine(stderr)}");
        if (exit != 0)
        {
            if (stderr.Contains("Operation not permitted", StringComparison.Ordinal) || stderr.Contains("permission", StringComparison.OrdinalIgnoreCase) || Environment.UserName != "root")
                Assert.Skip($"core-oracle needs root (or CAP_BPF + CAP_PERFMON) and a working bpf() syscall: exit {exit}: {FirstLine(stderr)}");
            Assert.Fail($"core-oracle failed (exit {exit}): {stderr}");
        }
        var list = new List<JsonElement>();
        foreach (var line in stdout.Split('\n'))
        {
            if (line.Length == 0) continue;
            list.Add(JsonDocument.Parse(line).RootElement.Clone());
        }
        return list;
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return nl < 0 ? s : s.Substring(0, nl);
    }
}
