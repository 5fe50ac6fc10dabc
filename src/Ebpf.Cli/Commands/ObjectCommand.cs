using System.CommandLine;
using Ebpf.Cli.Commands.Object;

namespace Ebpf.Cli.Commands;

/// <summary><c>dotnet ebpf object ...</c>: look inside a BPF object file, or try loading it.</summary>
internal static class ObjectCommand
{
    public static Command Create()
    {
        var obj = new Command("object", "Inspect a BPF object file (maps, programs, globals) or check that it loads on this kernel.");
        obj.Subcommands.Add(InfoCommand.Create());
        obj.Subcommands.Add(LoadCommand.Create());
        return obj;
    }
}
