using System.IO;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

/// <summary><c>dotnet ebpf gen skeleton</c> prints exactly what the source generator generates.</summary>
public class GenSkeletonCommandTests
{
    private static string Baseline(string name) =>
        File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Generator.Tests", "Baselines", name + ".verified.cs"));

    [Theory]
    [InlineData("exec_snoop", "event")]
    [InlineData("globals", null)]
    [InlineData("large", null)]
    public void PrintsTheGeneratorsSource(string name, string? types)
    {
        var args = new System.Collections.Generic.List<string> { "gen", "skeleton", TestEnvironment.Bpf(name), "--namespace", "Ebpf.Tests.Generated" };
        if (types != null) { args.Add("--types"); args.Add(types); }
        var r = CliRunner.Run(args.ToArray());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Baseline(name), r.StdOut);
        Assert.Equal(string.Empty, r.StdErr);
    }

    [Fact]
    public void ClassNameAndOutputFile()
    {
        string file = Path.Combine(TestEnvironment.TempDir("ebpf-gen"), "Tracer.cs");
        var r = CliRunner.Run("gen", "skeleton", TestEnvironment.Bpf("exec_snoop"), "--class-name", "TracerSkeleton", "--namespace", "My.App", "-o", file);
        Assert.True(r.ExitCode == 0, r.ToString());
        string source = File.ReadAllText(file);
        Assert.Contains("namespace My.App", source);
        Assert.Contains("public sealed partial class TracerSkeleton", source);
        Assert.Contains("public const string ResourceName = \"ebpf/exec_snoop.bpf.o\";", source);
    }

    [Fact]
    public void WarningsGoToStandardError()
    {
        var r = CliRunner.Run("gen", "skeleton", TestEnvironment.Bpf("hardcoded"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("warning EBPF009:", r.StdErr);
        Assert.Contains("public sealed partial class HardcodedSkeleton", r.StdOut);
    }

    [Fact]
    public void ErrorsFailWithoutSource()
    {
        var r = CliRunner.Run("gen", "skeleton", TestEnvironment.Bpf("broken/truncated.bpf.o"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error EBPF003:", r.StdErr);
        Assert.Equal(string.Empty, r.StdOut);
        // No BTF is a warning: the untyped skeleton is printed (as bpftool prints it).
        r = CliRunner.Run("gen", "skeleton", TestEnvironment.Bpf("broken/nobtf.bpf.o"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("warning EBPF004:", r.StdErr);
        Assert.Contains("public global::Ebpf.XdpProgram XdpPass { get; }", r.StdOut);
        r = CliRunner.Run("gen", "skeleton", TestEnvironment.Bpf("maps"), "--class-name", "not valid");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--class-name", r.StdErr);
    }
}
