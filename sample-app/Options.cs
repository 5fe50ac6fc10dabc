using System;
using System.Globalization;
using System.IO;

namespace ExecSnoop;

/// <summary>Command-line options of execsnoop.</summary>
internal sealed class Options
{
    public int Pid { get; private set; }
    public ulong MinDurationMs { get; private set; }
    public double DurationSeconds { get; private set; }
    public bool Json { get; private set; }
    public string? TargetBtf { get; private set; }

    public const string Usage =
        "usage: execsnoop [--pid PID] [--min-duration MS] [--duration SECONDS] [--json] [--btf FILE]\n" +
        "\n" +
        "Trace process exec and exit on this kernel, with a CO-RE eBPF program loaded from C#.\n" +
        "\n" +
        "  -p, --pid PID            only this process (tgid)\n" +
        "  -m, --min-duration MS    only report exits of processes that lived at least MS milliseconds (no exec lines)\n" +
        "  -d, --duration SECONDS   stop after tracing for SECONDS (default: until Ctrl-C)\n" +
        "  -j, --json               one JSON object per line instead of a table\n" +
        "      --btf FILE           kernel BTF to relocate against when /sys/kernel/btf/vmlinux is missing\n" +
        "  -h, --help               this text\n";

    /// <summary>Parses the arguments; null with a message for a usage error, or when help was asked for.</summary>
    public static Options? Parse(string[] args, TextWriter error, out int exitCode)
    {
        var o = new Options();
        exitCode = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? Value()
            {
                if (i + 1 < args.Length) return args[++i];
                error.WriteLine($"execsnoop: {a} needs a value");
                return null;
            }
            switch (a)
            {
                case "-h":
                case "--help":
                    Console.Out.Write(Usage);
                    return null;
                case "-j":
                case "--json":
                    o.Json = true;
                    break;
                case "-p":
                case "--pid":
                {
                    var v = Value();
                    if (v == null || !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
                        return Fail(error, $"--pid needs a positive process id, not '{v}'", out exitCode);
                    o.Pid = pid;
                    break;
                }
                case "-m":
                case "--min-duration":
                {
                    var v = Value();
                    if (v == null || !ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out ulong ms))
                        return Fail(error, $"--min-duration needs a number of milliseconds, not '{v}'", out exitCode);
                    o.MinDurationMs = ms;
                    break;
                }
                case "-d":
                case "--duration":
                {
                    var v = Value();
                    if (v == null || !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s <= 0)
                        return Fail(error, $"--duration needs a positive number of seconds, not '{v}'", out exitCode);
                    o.DurationSeconds = s;
                    break;
                }
                case "--btf":
                    o.TargetBtf = Value();
                    if (o.TargetBtf == null) { exitCode = 2; return null; }
                    break;
                default:
                    return Fail(error, $"unknown option '{a}'", out exitCode);
            }
        }
        return o;
    }

    private static Options? Fail(TextWriter error, string message, out int exitCode)
    {
        error.WriteLine("execsnoop: " + message);
        error.Write(Usage);
        exitCode = 2;
        return null;
    }
}
