using System;
using System.CommandLine;
using System.IO;
using Ebpf.Cli.Commands;

namespace Ebpf.Cli;

/// <summary>
/// Builds the command tree and runs it. Command groups live in <c>Commands/</c>, one file per group
/// (<see cref="BtfCommand"/>) and one file per subcommand under a folder named after the group
/// (<c>Commands/Btf/BtfDumpCommand.cs</c>). To add a group, write <c>Commands/XxxCommand.cs</c> with a
/// <c>Create()</c> that returns the group's <see cref="Command"/> and add it in <see cref="CreateRoot"/>.
/// Planned groups: <c>object</c> (info, load), <c>core</c> (relocate), <c>gen</c> (skeleton).
/// </summary>
internal static class CliApp
{
    /// <summary>Exit code of a command that failed (bad input file, missing type, ...).</summary>
    public const int ExitError = 1;

    /// <summary>Exit code of a command line that does not parse.</summary>
    public const int ExitUsage = 2;

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("dotnet ebpf: inspect eBPF objects and kernel BTF.");
        root.Subcommands.Add(BtfCommand.Create());
        root.Subcommands.Add(ObjectCommand.Create());
        root.Subcommands.Add(CoreCommand.Create());
        root.Subcommands.Add(GenCommand.Create());
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = CreateRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                stderr.WriteLine($"dotnet-ebpf: {error.Message}");
            stderr.WriteLine("Run 'dotnet ebpf --help' for usage.");
            return ExitUsage;
        }
        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Our actions report their own errors; anything that escapes is a bug, shown without a stack trace too.
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return parse.Invoke(config);
        }
        catch (Exception e)
        {
            stderr.WriteLine($"dotnet-ebpf: internal error: {e.GetType().Name}: {e.Message}");
            return ExitError;
        }
    }
}
