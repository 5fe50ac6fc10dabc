using System;
using System.CommandLine;
using System.IO;

namespace Ebpf.Cli;

/// <summary>A user-facing failure: printed as one line on stderr, exit code 1.</summary>
internal sealed class CliException : Exception
{
    public CliException(string message) : base(message) { }
}

/// <summary>Runs a command body with the invocation's writers, turning failures into one line on stderr.</summary>
internal static class CliAction
{
    public static int Run(ParseResult parse, Func<TextWriter, int> body)
    {
        var config = parse.InvocationConfiguration;
        var stdout = config.Output;
        var stderr = config.Error;
        try
        {
            int rc = body(stdout);
            stdout.Flush();
            return rc;
        }
        catch (CliException e)
        {
            stdout.Flush();
            stderr.WriteLine($"dotnet-ebpf: {e.Message}");
            return CliApp.ExitError;
        }
        catch (BpfException e)
        {
            stdout.Flush();
            stderr.WriteLine($"dotnet-ebpf: {e.Message}");
            return CliApp.ExitError;
        }
        catch (IOException e)
        {
            // Broken pipe and the like while writing the output.
            stderr.WriteLine($"dotnet-ebpf: {e.Message}");
            return CliApp.ExitError;
        }
    }
}
