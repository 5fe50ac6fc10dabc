using System.CommandLine;
using Ebpf.Cli.Commands.Gen;

namespace Ebpf.Cli.Commands;

/// <summary><c>dotnet ebpf gen ...</c>: generate code from BPF objects.</summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var gen = new Command("gen", "Generate C# from a BPF object (what the Ebpf.Skeletons package does at build time).");
        gen.Subcommands.Add(GenSkeletonCommand.Create());
        return gen;
    }
}
