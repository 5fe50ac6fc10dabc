using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Ebpf.Objects.Tests.Btf;

/// <summary>Result of running an external tool.</summary>
internal sealed class ProcessResult
{
    public ProcessResult(int exitCode, string stdout, string stderr)
    {
        ExitCode = exitCode;
        StdOut = stdout;
        StdErr = stderr;
    }

    public int ExitCode { get; }
    public string StdOut { get; }
    public string StdErr { get; }
}

/// <summary>Runs external tools (bpftool, clang) and captures their output.</summary>
internal static class ProcessRunner
{
    /// <summary>Full path of an executable found on PATH (or in /usr/sbin, /sbin), or null.</summary>
    public static string? Which(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in (path + ":/usr/sbin:/sbin:/usr/local/sbin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var full = Path.Combine(dir, name);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    public static ProcessResult Run(string exe, string[] args, int timeoutMs = 120_000, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (workingDirectory != null) psi.WorkingDirectory = workingDirectory;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{exe} {string.Join(" ", args)} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        return new ProcessResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
