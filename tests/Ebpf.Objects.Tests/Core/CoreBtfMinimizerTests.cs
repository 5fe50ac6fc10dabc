using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Objects.Tests.Btf;
using Xunit;

namespace Ebpf.Objects.Tests.Core;

/// <summary>
/// The minimized kernel BTF (<see cref="CoreBtfMinimizer"/>) must give every CO-RE relocation the decision the full
/// kernel BTF gives it (kind, new value, poisoned, memory size, errors), for every object in bpf/ and the adversarial
/// objects, against every stored kernel and the running one; and it must be no larger than bpftool's
/// <c>gen min_core_btf</c> output for the same objects.
/// </summary>
public class CoreBtfMinimizerTests
{
    private const string RunningKernel = "running";

    private static List<string> Objects()
    {
        var objects = new List<string>();
        if (Directory.Exists(CoreTestUtil.BpfDir))
            objects.AddRange(Directory.GetFiles(CoreTestUtil.BpfDir, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal));
        if (Directory.Exists(CoreOracleTests.DataDir))
            objects.AddRange(Directory.GetFiles(CoreOracleTests.DataDir, "*.bpf.o").OrderBy(x => x, StringComparer.Ordinal));
        return objects;
    }

    private static List<string> Kernels()
    {
        var list = new List<string> { RunningKernel };
        if (Directory.Exists(CoreTestUtil.KernelBtfDir))
            list.AddRange(Directory.GetFiles(CoreTestUtil.KernelBtfDir, "*.btf.gz").Select(f => Path.GetFileName(f)!).OrderBy(x => x, StringComparer.Ordinal));
        return list;
    }

    public static TheoryData<string> KernelCases()
    {
        var data = new TheoryData<string>();
        try
        {
            _ = CoreTestUtil.RepoRoot;
        }
        catch (InvalidOperationException)
        {
            return data;
        }
        foreach (var k in Kernels())
            data.Add(k);
        return data;
    }

    private static BtfSpec KernelOrSkip(string kernel)
    {
        if (kernel == RunningKernel)
        {
            var t = CoreTestUtil.RunningKernel();
            if (t == null)
                Assert.Skip($"the running kernel exposes no BTF at {CoreTestUtil.RunningKernelBtf}");
            return t!.Kernel;
        }
        return CoreTestUtil.StoredKernel(Path.Combine(CoreTestUtil.KernelBtfDir, kernel)).Kernel;
    }

    private static List<CoreTestUtil.LoadedObject> CoreObjects()
    {
        var list = new List<CoreTestUtil.LoadedObject>();
        foreach (var path in Objects())
        {
            var obj = CoreTestUtil.LoadObject(path);
            if (obj != null && obj.Ext != null && obj.CoreRecordCount > 0)
                list.Add(obj);
        }
        return list;
    }

    /// <summary>
    /// One minimized BTF for all objects together (what the build embeds), and one per object: every decision of
    /// every object equals the full BTF's, with every program loaded and with every other program's autoload off
    /// (a different pruning of the candidate lists).
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelCases))]
    public void DecisionsEqualFullBtf(string kernel)
    {
        var full = KernelOrSkip(kernel);
        var objects = CoreObjects();
        Assert.NotEmpty(objects);

        var all = new CoreBtfMinimizer(full, kernel);
        foreach (var o in objects)
            all.Add(Path.GetFileName(o.Path), o.Btf, o.Ext!, TestContext.Current.CancellationToken);
        var together = all.Build();
        var togetherSpec = BtfSpec.Parse(together.Bytes);

        int compared = 0;
        foreach (var o in objects)
        {
            var one = new CoreBtfMinimizer(full, kernel);
            one.Add(Path.GetFileName(o.Path), o.Btf, o.Ext!, TestContext.Current.CancellationToken);
            var alone = one.Build();
            var aloneSpec = BtfSpec.Parse(alone.Bytes);
            Assert.True(alone.Bytes.Length <= together.Bytes.Length, $"{o.Path}: its own minimized BTF is larger than the one for all objects");

            foreach (var filter in Filters(o))
            {
                var expected = Relocate(o, full, filter.Load);
                compared += CompareDecisions(o, kernel + " (all objects)" + filter.Name, full, expected, Relocate(o, togetherSpec, filter.Load), together, togetherSpec);
                compared += CompareDecisions(o, kernel + " (this object)" + filter.Name, full, expected, Relocate(o, aloneSpec, filter.Load), alone, aloneSpec);
            }
        }
        Assert.True(compared > 0);
        TestContext.Current.SendDiagnosticMessage($"{kernel}: {compared} decisions compared, {together.TypeCount} of {together.KernelTypeCount} types kept, {together.Bytes.Length} bytes for {objects.Count} objects");
    }

    private static IEnumerable<(string Name, Func<string, bool>? Load)> Filters(CoreTestUtil.LoadedObject o)
    {
        yield return (string.Empty, null);
        var funcs = o.Elf.Symbols.Where(s => s.Type == Ebpf.Elf.ElfSymbolType.Func).Select(s => s.Name).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        if (funcs.Count < 2)
            yield break;
        var off = new HashSet<string>(funcs.Where((_, i) => i % 2 == 0), StringComparer.Ordinal);
        yield return (" (every other program off)", name => !off.Contains(name));
    }

    private static CoreRelocationReport Relocate(CoreTestUtil.LoadedObject o, BtfSpec target, Func<string, bool>? load) =>
        CoreRelocator.RelocateObject(o.Elf, o.Btf, o.Ext!, new CoreCandidateCache(new CoreTargets(target, "t")), load, TestContext.Current.CancellationToken);

    private static int CompareDecisions(CoreTestUtil.LoadedObject o, string what, BtfSpec fullBtf, CoreRelocationReport full, CoreRelocationReport min, CoreMinimizedBtf minimized, BtfSpec minBtf)
    {
        // Kernel type ids also map exactly: the same type, under its id in the minimized BTF.
        for (int i = 0; i < full.Results.Count && i < min.Results.Count; i++)
        {
            var f = full.Results[i];
            if (f.Kind == CoreReloKind.TypeIdTarget && f.Status == CoreRelocationStatus.Applied && f.NewValue is long id && id != 0)
                Assert.True(minimized.MapTypeId((int)id) == min.Results[i].NewValue, $"{Path.GetFileName(o.Path)} on {what}: {f}: type id {id} maps to {minimized.MapTypeId((int)id)}, minimized gives {min.Results[i].NewValue}");
        }
        return Ebpf.Tests.CoreDecisions.AssertSame($"{Path.GetFileName(o.Path)} on {what}", full, fullBtf, min, minBtf);
    }

    /// <summary>Every relocation kind is exercised by the objects compared above (all 13 CO-RE kinds).</summary>
    [Fact]
    public void ObjectsCoverEveryRelocationKind()
    {
        var kinds = new HashSet<CoreReloKind>();
        foreach (var o in CoreObjects())
            foreach (var s in o.Ext!.CoreRelos)
                foreach (var r in s.Records)
                    kinds.Add(r.Kind);
        foreach (CoreReloKind k in Enum.GetValues(typeof(CoreReloKind)))
            Assert.True(kinds.Contains(k), $"no object in bpf/ or Core/Data has a {k.ToShortName()} relocation");
    }

    /// <summary>What each relocation kind keeps: members on the path, enumerators named, full shape for type_matches.</summary>
    [Fact]
    public void KeepsWhatEachKindResolvesAgainst()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int pidT = b.AddTypedef("pid_t", i32);
        int fwd = b.AddFwd("mm_struct");
        int mmPtr = b.AddPointer(fwd);
        int inner = b.AddStruct("inner", 8, new BtfBuilder.Member("a", u32, 0), new BtfBuilder.Member("b", u32, 32));
        int task = b.AddStruct("task", 32,
            new BtfBuilder.Member("pid", pidT, 0),
            new BtfBuilder.Member("flags", u32, 32),
            new BtfBuilder.Member("mm", mmPtr, 64),
            new BtfBuilder.Member("in", inner, 128),
            new BtfBuilder.Member("tail", b.AddArray(u32, i32, 2), 192));
        int color = b.AddEnum("color", 4, false, ("RED", 1), ("GREEN", 2), ("BLUE", 3));
        b.AddStruct("unused", 4, new BtfBuilder.Member("x", i32, 0));
        var kernel = BtfSpec.Parse(b.Build());

        // The object: task.pid read (byte_off), color::BLUE value, type_matches on struct inner, type_exists on pid_t.
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lu = lb.AddInt("unsigned int", 4);
        int lpid = lb.AddTypedef("pid_t", li);
        int ltask = lb.AddStruct("task", 4, new BtfBuilder.Member("pid", lpid, 0));
        int lcolor = lb.AddEnum("color", 4, false, ("BLUE", 3));
        int linner = lb.AddStruct("inner", 8, new BtfBuilder.Member("a", lu, 0), new BtfBuilder.Member("b", lu, 32));
        lb.AddString("0:0");
        lb.AddString("0");
        var local = BtfSpec.Parse(lb.Build());
        var relos = new[]
        {
            CoreTestUtil.Relo(local, 0, ltask, "0:0", CoreReloKind.FieldByteOffset),
            CoreTestUtil.Relo(local, 1, lcolor, "0", CoreReloKind.EnumValueValue),
            CoreTestUtil.Relo(local, 2, linner, "0", CoreReloKind.TypeMatches),
            CoreTestUtil.Relo(local, 3, lpid, "0", CoreReloKind.TypeExists),
        };
        var ext = new[] { new BtfExtSection<BtfCoreRelo>(".text", 0, relos) };

        var minimizer = new CoreBtfMinimizer(kernel, "test");
        var report = minimizer.Add("obj", local, ext);
        Assert.Equal(4, report.Matched);
        var min = BtfSpec.Parse(minimizer.Build().Bytes);

        var t = (BtfStruct)min[min.FindByName("task", BtfKind.Struct)];
        Assert.Equal(32, t.Size);
        Assert.Equal(new[] { "pid" }, t.Members.Select(m => m.Name));
        Assert.Equal(BtfKind.Int, min.GetKind(t.Members[0].TypeId));   // pid_t collapsed to int in a member
        var e = (BtfEnum)min[min.FindByName("color", BtfKind.Enum)];
        Assert.Equal(new[] { ("BLUE", 3UL) }, e.Values.Select(v => (v.Name, v.RawValue)));
        var inn = (BtfStruct)min[min.FindByName("inner", BtfKind.Struct)];
        Assert.Equal(new[] { "a", "b" }, inn.Members.Select(m => m.Name));
        Assert.Equal(BtfKind.Typedef, min.GetKind(min.FindByName("pid_t", BtfKind.Typedef)));
        Assert.True(min.FindByName("unused", BtfKind.Struct) < 0);
        Assert.True(min.FindByName("mm_struct", BtfKind.Fwd) < 0);
    }

    /// <summary>
    /// Ours is no larger than bpftool's <c>gen min_core_btf</c> for each object alone and for all of them together
    /// (the objects bpftool accepts: it refuses any object with a relocation libbpf cannot resolve).
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelCases))]
    public void NoLargerThanBpftool(string kernel)
    {
        var bpftool = BtfTestData.BpftoolOrSkip();
        var full = KernelOrSkip(kernel);
        string dir = Path.Combine(Path.GetTempPath(), "ebpf-min-core-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string input = Path.Combine(dir, "vmlinux.btf");
            File.WriteAllBytes(input, kernel == RunningKernel ? File.ReadAllBytes(CoreTestUtil.RunningKernelBtf) : BtfTestData.ReadMaybeGzip(Path.Combine(CoreTestUtil.KernelBtfDir, kernel)));
            var accepted = new List<CoreTestUtil.LoadedObject>();
            var table = new System.Text.StringBuilder();
            long oursTotal = 0, theirsTotal = 0;
            foreach (var o in CoreObjects())
            {
                string output = Path.Combine(dir, Path.GetFileName(o.Path) + ".btf");
                var r = ProcessRunner.Run(bpftool, new[] { "gen", "min_core_btf", input, output, o.Path });
                if (r.ExitCode != 0)
                    continue;
                accepted.Add(o);
                var m = new CoreBtfMinimizer(full, kernel);
                m.Add(Path.GetFileName(o.Path), o.Btf, o.Ext!, TestContext.Current.CancellationToken);
                long ours = m.Build().Bytes.Length, theirs = new FileInfo(output).Length;
                oursTotal += ours;
                theirsTotal += theirs;
                table.Append(Path.GetFileName(o.Path)).Append(' ').Append(ours).Append(' ').Append(theirs).Append('\n');
                Assert.True(ours <= theirs, $"{Path.GetFileName(o.Path)} on {kernel}: ours is {ours} bytes, bpftool's {theirs}");
            }
            Assert.NotEmpty(accepted);
            string allOut = Path.Combine(dir, "all.btf");
            var args = new List<string> { "gen", "min_core_btf", input, allOut };
            args.AddRange(accepted.Select(o => o.Path));
            var all = ProcessRunner.Run(bpftool, args.ToArray());
            Assert.True(all.ExitCode == 0, $"bpftool gen min_core_btf on {accepted.Count} objects failed: {all.StdErr}");
            var mAll = new CoreBtfMinimizer(full, kernel);
            foreach (var o in accepted)
                mAll.Add(Path.GetFileName(o.Path), o.Btf, o.Ext!, TestContext.Current.CancellationToken);
            long oursAll = mAll.Build().Bytes.Length, theirsAll = new FileInfo(allOut).Length;
            TestContext.Current.SendDiagnosticMessage($"{kernel}: {accepted.Count} objects together: ours {oursAll} bytes, bpftool {theirsAll}; one by one (object ours bpftool):\n{table}");
            Assert.True(oursAll <= theirsAll, $"all {accepted.Count} objects on {kernel}: ours is {oursAll} bytes, bpftool's {theirsAll}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
