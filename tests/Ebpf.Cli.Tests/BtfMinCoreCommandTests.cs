using System.IO;
using System.Linq;
using System.Text.Json;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

public class BtfMinCoreCommandTests
{
    private static string StoredBtf(string name) => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", name);

    /// <summary>One file per kernel, named by release; `core relocate` against it decides as against the full BTF.</summary>
    [Fact]
    public void WritesOneBtfPerKernelThatRelocatesLikeTheFullOne()
    {
        using var dir = new TempDir();
        string[] kernels = { "5.10.0-46-amd64", "6.1.0-56-amd64" };
        var objects = new[] { TestEnvironment.Bpf("exec_snoop"), TestEnvironment.Bpf("core_enums"), TestEnvironment.Bpf("core_comm"), TestEnvironment.Bpf("core_flavors") };
        var args = new[] { "btf", "min-core" }.Concat(objects).Concat(new[] { "--btf", StoredBtf(kernels[0] + ".btf.gz"), StoredBtf(kernels[1] + ".btf.gz"), "-o", dir.Path }).ToArray();
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.StdErr);
        foreach (var k in kernels)
        {
            string min = Path.Combine(dir.Path, k + ".btf");
            Assert.True(File.Exists(min), r.StdOut);
            Assert.Contains($"{k}: ", r.StdOut);
            Assert.True(new FileInfo(min).Length < 4096, $"{min} is {new FileInfo(min).Length} bytes");
            foreach (var o in objects)
            {
                var full = CliRunner.Run("core", "relocate", o, "--target-btf", StoredBtf(k + ".btf.gz"), "--json");
                var cut = CliRunner.Run("core", "relocate", o, "--target-btf", min, "--json");
                Assert.True(full.ExitCode == 0 && cut.ExitCode == 0, full + "\n" + cut);
                var a = full.StdOut.Split('\n', System.StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
                var b = cut.StdOut.Split('\n', System.StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
                Assert.Equal(a.Count, b.Count);
                for (int i = 0; i < a.Count; i++)
                {
                    Assert.Equal(a[i].GetProperty("new").ToString(), b[i].GetProperty("new").ToString());
                    Assert.Equal(a[i].GetProperty("poisoned").GetBoolean(), b[i].GetProperty("poisoned").GetBoolean());
                }
            }
        }
    }

    [Fact]
    public void SaysWhatNeedsTheKernelsOwnBtf()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("btf", "min-core", TestEnvironment.Bpf("kfuncs"), "--btf", StoredBtf("6.1.0-56-amd64.btf.gz"), "-o", dir.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kfuncs: program 'on_fork' (SEC(\"tp_btf/sched_process_fork\")) attaches by BTF id", r.StdErr);
        Assert.Contains("kfunc 'bpf_task_acquire' is resolved in the kernel's BTF", r.StdErr);
        Assert.Contains("a minimized BTF cannot stand in for", r.StdErr);
    }

    [Fact]
    public void RefusesNamesWithoutARelease()
    {
        using var dir = new TempDir();
        var kernel = dir.File("vmlinux", File.ReadAllBytes(StoredBtf("6.1.0-56-amd64.btf.gz")));
        var r = CliRunner.Run("btf", "min-core", TestEnvironment.Bpf("exec_snoop"), "--btf", kernel, "-o", Path.Combine(dir.Path, "out"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot tell the kernel release from the file name", r.StdErr);

        var same = dir.File("6.1.0-56-amd64.btf.gz", File.ReadAllBytes(StoredBtf("6.1.0-56-amd64.btf.gz")));
        var dup = CliRunner.Run("btf", "min-core", TestEnvironment.Bpf("exec_snoop"), "--btf", same, StoredBtf("6.1.0-56-amd64.btf.gz"), "-o", Path.Combine(dir.Path, "out"));
        Assert.Equal(1, dup.ExitCode);
        Assert.Contains("are both BTF of kernel 6.1.0-56-amd64", dup.StdErr);
    }
}
