using System;
using System.IO;
using System.Globalization;

namespace Ebpf.Cli.Tests;

/// <summary>Result of one in-process CLI invocation.</summary>
internal sealed class CliResult
{
    public CliResult(int exitCode, string stdout, string stderr)
    {
        ExitCode = exitCode;
        StdOut = stdout;
        StdErr = stderr;
    }

    public int ExitCode { get; }
    public string StdOut { get; }
    public string StdErr { get; }

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}

internal static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var stderr = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        int rc = Program.Run(args, stdout, stderr);
        return new CliResult(rc, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A temporary directory for the files a test hands to the CLI.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ebpf-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, byte[] contents)
    {
        var p = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllBytes(p, contents);
        return p;
    }

    public string Gzip(string name, byte[] contents)
    {
        var p = System.IO.Path.Combine(Path, name);
        using (var fs = System.IO.File.Create(p))
        using (var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(contents, 0, contents.Length);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
