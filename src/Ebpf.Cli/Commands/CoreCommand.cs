using System.CommandLine;
using Ebpf.Cli.Commands.Core;

namespace Ebpf.Cli.Commands;

/// <summary><c>dotnet ebpf core ...</c>: CO-RE (compile once, run everywhere) relocations.</summary>
internal static class CoreCommand
{
    public static Command Create()
    {
        var core = new Command("core", "CO-RE: how an object's field offsets, sizes, type and enum checks resolve against a kernel.");
        core.Subcommands.Add(RelocateCommand.Create());
        return core;
    }
}
