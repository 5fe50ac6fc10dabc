using System;
using System.IO;
using System.Text;

namespace Ebpf.Cli;

/// <summary>Entry point of <c>dotnet ebpf</c> (the <c>dotnet-ebpf</c> tool).</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        // A large buffered stdout: dumping the kernel's BTF writes ~10 MB.
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        var stderr = new StreamWriter(Console.OpenStandardError(), new UTF8Encoding(false)) { AutoFlush = true };
        try
        {
            return Run(args, stdout, stderr);
        }
        finally
        {
            try
            {
                stdout.Flush();
            }
            catch (IOException)
            {
                // stdout closed early (e.g. piped into head): nothing left to report.
            }
        }
    }

    /// <summary>Runs the CLI with the given streams; returns the process exit code (0 ok, 1 error, 2 usage).</summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr) => CliApp.Run(args, stdout, stderr);
}
