using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Elf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

/// <summary>Where the BTF inputs of the data-driven tests come from, and the tools that check them.</summary>
internal static class BtfTestData
{
    public const string KernelBtfPath = "/sys/kernel/btf/vmlinux";

    /// <summary>Sentinel theory row used when a data source has no files (the test then skips).</summary>
    public const string None = "(none)";

    private static readonly Lazy<string?> s_repoRoot = new Lazy<string?>(() =>
    {
        var env = Environment.GetEnvironmentVariable("EBPF_REPO_ROOT");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
            return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                return dir.FullName;
        }
        return null;
    });

    public static string? RepoRoot => s_repoRoot.Value;

    /// <summary>Every ELF object under bpf/ that has a .BTF section, relative to the repository root.</summary>
    public static IEnumerable<string> BpfObjectsWithBtf()
    {
        var root = RepoRoot;
        if (root == null || !Directory.Exists(Path.Combine(root, "bpf")))
            return Array.Empty<string>();
        var list = new List<string>();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(root, "bpf"), "*.o", SearchOption.AllDirectories).OrderBy(x => x, StringComparer.Ordinal))
        {
            try
            {
                var bytes = File.ReadAllBytes(f);
                if (!ElfFile.HasElfMagic(bytes)) continue;
                if (ElfFile.Parse(bytes).FindSection(".BTF") == null) continue;
            }
            catch (BpfFormatException)
            {
                continue; // deliberately broken objects are other tests' business
            }
            list.Add(Path.GetRelativePath(root, f));
        }
        return list;
    }

    /// <summary>Every tests/data/btf/*.btf.gz, relative to the repository root.</summary>
    public static IEnumerable<string> KernelBtfArchives()
    {
        var root = RepoRoot;
        var dir = root == null ? null : Path.Combine(root, "tests", "data", "btf");
        if (dir == null || !Directory.Exists(dir))
            return Array.Empty<string>();
        return Directory.EnumerateFiles(dir, "*.btf.gz").OrderBy(x => x, StringComparer.Ordinal).Select(f => Path.GetRelativePath(root!, f)).ToList();
    }

    public static TheoryData<string> WithSentinel(IEnumerable<string> items)
    {
        var data = new TheoryData<string>();
        bool any = false;
        foreach (var i in items)
        {
            data.Add(i);
            any = true;
        }
        if (!any) data.Add(None);
        return data;
    }

    public static string Resolve(string relative) => Path.Combine(RepoRoot ?? throw new InvalidOperationException("repository root not found"), relative);

    /// <summary>Reads a file, gunzipping gzip content.</summary>
    public static byte[] ReadMaybeGzip(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Gzip.IsGzip(bytes) ? Gzip.Decompress(bytes) : bytes;
    }

    /// <summary>The running kernel's BTF, or a skip.</summary>
    public static byte[] KernelBtfOrSkip()
    {
        if (!File.Exists(KernelBtfPath))
            Assert.Skip($"{KernelBtfPath} does not exist (kernel without CONFIG_DEBUG_INFO_BTF, or not Linux)");
        try
        {
            return File.ReadAllBytes(KernelBtfPath);
        }
        catch (UnauthorizedAccessException)
        {
            Assert.Skip($"{KernelBtfPath} is not readable by this user");
            throw;
        }
    }

    public static string BpftoolOrSkip()
    {
        var bpftool = ProcessRunner.Which("bpftool");
        if (bpftool == null)
            Assert.Skip("bpftool is not installed (apt-get install bpftool); the raw dump is compared against its output");
        var r = ProcessRunner.Run(bpftool!, new[] { "version" });
        if (r.ExitCode != 0)
            Assert.Skip($"'bpftool version' failed ({r.ExitCode}): {r.StdErr.Trim()}");
        return bpftool!;
    }

    public static string ClangOrSkip()
    {
        var clang = ProcessRunner.Which("clang");
        if (clang == null)
            Assert.Skip("clang is not installed; the generated C header is checked by compiling it with 'clang -target bpf'");
        return clang!;
    }

    /// <summary>A fresh temporary directory, deleted by the caller.</summary>
    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ebpf-btf-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteQuietly(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static string Dump(Action<TextWriter> write)
    {
        var sw = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        write(sw);
        return sw.ToString();
    }

    /// <summary>First differing line, for assertion messages that are readable on 300 000-line dumps.</summary>
    public static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int n = Math.Min(e.Length, a.Length);
        for (int i = 0; i < n; i++)
        {
            if (!string.Equals(e[i], a[i], StringComparison.Ordinal))
                return $"line {i + 1}:\n  bpftool: {e[i]}\n  ours:    {a[i]}";
        }
        return e.Length == a.Length ? "identical" : $"line counts differ: bpftool {e.Length}, ours {a.Length}";
    }

    public static BtfSpec ParseFile(string path) => BtfSource.Parse(ReadMaybeGzip(path));
}
