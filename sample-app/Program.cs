using System;
using System.Runtime.InteropServices;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using Ebpf;

namespace ExecSnoop;

/// <summary>
/// execsnoop: traces process exec and exit through a CO-RE eBPF program (bpf/exec_snoop.bpf.c) loaded from the
/// skeleton the source generator made for it. Parent pids come from task_struct->real_parent->tgid, relocated for
/// the running kernel at load.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var options = Options.Parse(args, Console.Error, out int usageExit);
        if (options == null)
            return usageExit;
        try
        {
            return Run(options);
        }
        catch (BpfException e)
        {
            // One root for every load, attach and format error; the message names what failed and why.
            Console.Error.WriteLine("execsnoop: " + (e is BpfFormatException ? "the embedded BPF object is damaged: " : string.Empty) + e.Message);
            return 1;
        }
    }

    private static int Run(Options options)
    {
        using var cancel = new CancellationTokenSource();
        // Ctrl-C (SIGINT) and SIGTERM stop the loop, which then detaches and prints the histogram.
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
        if (options.DurationSeconds > 0)
            cancel.CancelAfter(TimeSpan.FromSeconds(options.DurationSeconds));

        var bpfOptions = new BpfObjectOptions { TargetBtfPath = options.TargetBtf, Logger = new StderrLogger() };
        using var skel = ExecSnoopSkeleton.Open(bpfOptions);
        // .rodata is set between Open and Load; the verifier then sees them as constants.
        skel.Rodata.TargetPid = options.Pid;
        skel.Rodata.MinDurationNs = options.MinDurationMs * 1_000_000UL;
        skel.Load();
        skel.Attach();

        var output = new Output(Console.Out, options.Json);
        var lifetimes = new Log2Histogram();
        using var reader = skel.Maps.Rb.CreateReader();
        Console.Error.WriteLine(options.Json ? "execsnoop: attached" : "execsnoop: attached; tracing exec and exit, Ctrl-C to stop");
        if (!options.Json)
            output.Header();

        RingBufferEventHandler<ExecSnoopSkeleton.Event> onEvent = (ref readonly ExecSnoopSkeleton.Event e) =>
        {
            if (e.ExitEvent && e.DurationNs > 0)
                lifetimes.Add(e.DurationNs / 1000);
            output.Write(in e);
        };
        while (!cancel.IsCancellationRequested)
        {
            reader.Poll(onEvent, timeoutMs: 100);
            output.Flush();
        }
        reader.Consume(onEvent);
        output.Flush();

        skel.Detach();
        if (!options.Json)
        {
            Console.Out.WriteLine();
            lifetimes.Write(Console.Out, "usecs");
        }
        return 0;
    }

    /// <summary>Formats events as an aligned table or JSON lines.</summary>
    private sealed class Output
    {
        private readonly TextWriter _w;
        private readonly bool _json;
        private readonly MemoryStream _jsonBuffer = new MemoryStream();
        private readonly Utf8JsonWriter _jsonWriter;

        public Output(TextWriter w, bool json)
        {
            _w = w;
            _json = json;
            _jsonWriter = new Utf8JsonWriter(_jsonBuffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        public void Header() =>
            _w.WriteLine($"{"TIME",-8} {"EVENT",-5} {"COMM",-16} {"PID",-7} {"PPID",-7} FILENAME/EXIT CODE");

        public void Write(in ExecSnoopSkeleton.Event e)
        {
            var now = DateTime.Now;
            string comm = e.GetCommString();
            if (_json)
            {
                _jsonWriter.Reset();
                _jsonBuffer.SetLength(0);
                _jsonWriter.WriteStartObject();
                _jsonWriter.WriteString("time", now.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                _jsonWriter.WriteString("event", e.ExitEvent ? "exit" : "exec");
                _jsonWriter.WriteNumber("pid", e.Pid);
                _jsonWriter.WriteNumber("ppid", e.Ppid);
                _jsonWriter.WriteString("comm", comm);
                if (e.ExitEvent)
                {
                    _jsonWriter.WriteNumber("exit_code", e.ExitCode);
                    _jsonWriter.WriteNumber("duration_ns", e.DurationNs);
                }
                else
                {
                    _jsonWriter.WriteString("filename", e.GetFilenameString());
                }
                _jsonWriter.WriteEndObject();
                _jsonWriter.Flush();
                _w.WriteLine(Encoding.UTF8.GetString(_jsonBuffer.GetBuffer(), 0, (int)_jsonBuffer.Length));
                return;
            }
            string time = now.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            if (e.ExitEvent)
            {
                string lifetime = e.DurationNs > 0 ? $" ({FormatDuration(e.DurationNs)})" : string.Empty;
                _w.WriteLine($"{time,-8} {"EXIT",-5} {comm,-16} {e.Pid,-7} {e.Ppid,-7} [{e.ExitCode}]{lifetime}");
            }
            else
            {
                _w.WriteLine($"{time,-8} {"EXEC",-5} {comm,-16} {e.Pid,-7} {e.Ppid,-7} {e.GetFilenameString()}");
            }
        }

        public void Flush() => _w.Flush();

        private static string FormatDuration(ulong ns) =>
            ns >= 1_000_000_000 ? $"{ns / 1e9:0.###}s" : ns >= 1_000_000 ? $"{ns / 1e6:0.###}ms" : $"{ns / 1e3:0.###}us";
    }
}
