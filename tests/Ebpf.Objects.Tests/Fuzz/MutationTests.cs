using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Elf;
using Ebpf.Fuzz;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Objects.Tests.Fuzz;

/// <summary>
/// The CI-sized fuzz run: for every object under bpf/ (the broken ones included) and the CO-RE test objects,
/// deterministic mutants (fixed seed) of the whole file, of its .BTF and of its .BTF.ext go through the same
/// targets as the AFL++ harness. Each must end in a typed exception or success, within 10 s, allocating at most
/// 64 MiB + 256 bytes per input byte.
/// </summary>
public class MutationTests
{
    private const int ObjectMutants = 40;
    private const int CoreMutants = 15;
    private const int BtfMutants = 60;
    private const int BtfExtMutants = 60;

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        var root = TestEnvironment.RepoRoot;
        var files = new List<string>();
        files.AddRange(Directory.GetFiles(Path.Combine(root, "bpf"), "*.o"));
        files.AddRange(Directory.GetFiles(Path.Combine(root, "bpf", "broken"), "*.o"));
        files.AddRange(Directory.GetFiles(Path.Combine(root, "tests", "Ebpf.Objects.Tests", "Core", "Data"), "*.o"));
        files.Sort(StringComparer.Ordinal);
        foreach (var f in files)
            data.Add(Path.GetRelativePath(root, f));
        return data;
    }

    private static int Seed(string name, string target)
    {
        // string.GetHashCode is randomised per process: a fixed FNV-1a keeps the mutants the same everywhere.
        uint h = 2166136261;
        foreach (char c in name + "/" + target) h = (h ^ c) * 16777619;
        return (int)h;
    }

    /// <summary>
    /// Runs <paramref name="count"/> mutants through <paramref name="target"/>; for a section's mutants
    /// (<paramref name="host"/> and <paramref name="section"/> given) also spliced back into their own object,
    /// through the core target, so that the mutated section meets the rest of the object it belongs to.
    /// </summary>
    private static void RunMutants(string target, byte[] original, Mutator.Kind kind, int count, string name, byte[]? host = null, string? section = null)
    {
        var m = new Mutator(original, kind, Seed(name, target));
        int accepted = 0;
        for (int i = 0; i < count; i++)
        {
            var mutant = m.Next(out string how);
            if (FuzzCheck.Run(target, mutant, $"{name} mutant #{i} ({how})") == FuzzCheck.Outcome.Accepted)
                accepted++;
            if (host != null)
                FuzzCheck.Run(ObjectFuzzTargets.Core, ObjectFuzzTargets.SpliceSection(host, section!, mutant), $"{name} mutant #{i} ({how}) in its object");
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{name} {target}: {count} mutants, {accepted} accepted");
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void MutatedObjectsFailOnlyWithTypedErrors(string relativePath)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, relativePath));
        FuzzCheck.Run(ObjectFuzzTargets.Object, bytes, relativePath);
        RunMutants(ObjectFuzzTargets.Object, bytes, Mutator.Kind.Elf, ObjectMutants, relativePath);
        RunMutants(ObjectFuzzTargets.Core, bytes, Mutator.Kind.Elf, CoreMutants, relativePath);
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void MutatedBtfFailsOnlyWithTypedErrors(string relativePath)
    {
        var btf = Section(relativePath, ".BTF");
        if (btf == null)
            Assert.Skip($"{relativePath} has no .BTF section");
        FuzzCheck.Run(ObjectFuzzTargets.Btf, btf, relativePath + " .BTF");
        bool le = ElfFile.Parse(Host(relativePath)).IsLittleEndian;
        RunMutants(ObjectFuzzTargets.Btf, btf, Mutator.Kind.Btf, BtfMutants, relativePath + " .BTF", le ? Host(relativePath) : null, ".BTF");
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void MutatedBtfExtFailsOnlyWithTypedErrors(string relativePath)
    {
        var ext = Section(relativePath, ".BTF.ext");
        if (ext == null)
            Assert.Skip($"{relativePath} has no .BTF.ext section");
        FuzzCheck.Run(ObjectFuzzTargets.BtfExt, ext, relativePath + " .BTF.ext");
        RunMutants(ObjectFuzzTargets.BtfExt, ext, Mutator.Kind.BtfExt, BtfExtMutants, relativePath + " .BTF.ext", Host(relativePath), ".BTF.ext");
    }

    private static byte[] Host(string relativePath) => File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, relativePath));

    private static byte[]? Section(string relativePath, string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, relativePath));
        try
        {
            var elf = ElfFile.Parse(bytes);
            // Big-endian objects: only their BTF (the BTF reader byte-swaps; .BTF.ext is read only with its object).
            return elf.IsLittleEndian || name == ".BTF" ? elf.FindSection(name)?.Data.ToArray() : null;
        }
        catch (BpfFormatException)
        {
            return null;
        }
    }
}
