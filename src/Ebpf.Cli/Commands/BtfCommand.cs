using System.CommandLine;
using Ebpf.Cli.Commands.Btf;

namespace Ebpf.Cli.Commands;

/// <summary><c>dotnet ebpf btf ...</c>: look at BTF (kernel, module or object).</summary>
internal static class BtfCommand
{
    public static Command Create()
    {
        var btf = new Command("btf", "Inspect BTF: the kernel's (/sys/kernel/btf/vmlinux), a module's, or a BPF object's .BTF section.");
        btf.Subcommands.Add(BtfDumpCommand.Create());
        btf.Subcommands.Add(BtfStructCommand.Create());
        btf.Subcommands.Add(BtfDiffCommand.Create());
        btf.Subcommands.Add(BtfMinCoreCommand.Create());
        return btf;
    }
}
