using System;
using System.Runtime.InteropServices;
using System.IO;
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
        var bpfOptions = new BpfObjectOptions { TargetBtfPath = options.TargetBtf, Logger = new StderrLogger() };
        using var skel = ExecSnoopSkeleton.Open(bpfOptions);
        // .rodata is set between Open and Load; the verifier then sees them as constants.
        skel.Rodata.TargetPid = options.Pid;
        skel.Rodata.MinDurationNs = options.MinDurationMs * 1_000_000UL;
        skel.Load();
        skel.Attach();

        // write(2) on descriptor 1 (a FileStream would pwrite a regular file at its own offset, and the histogram or
        // a shared stderr written through the descriptor's offset would then overwrite the first rows)
        using var stdout = Console.OpenStandardOutput();
        var output = new Output(stdout, interactive: !Console.IsOutputRedirected, options.Json);
        var lifetimes = new Log2Histogram();
        using var reader = skel.Maps.Rb.CreateReader();
        Console.Error.WriteLine(options.Json ? "execsnoop: attached" : "execsnoop: attached; tracing exec and exit, Ctrl-C to stop");
        // --duration counts tracing time, from the moment the programs are attached (loading may take a while on a
        // busy machine or under emulation)
        if (options.DurationSeconds > 0)
            cancel.CancelAfter(TimeSpan.FromSeconds(options.DurationSeconds));
        if (!options.Json)
            output.Header();

        RingBufferEventHandler<ExecSnoopSkeleton.Event> onEvent = (ref readonly ExecSnoopSkeleton.Event e) =>
        {
            if (e.ExitEvent && e.DurationNs > 0)
                lifetimes.Add(e.DurationNs / 1000);
            output.Write(in e);
        };
        try
        {
            while (true)
                output.EndOfBatch(reader.Poll(onEvent, TimeSpan.FromMilliseconds(100), cancel.Token));
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C, SIGTERM or --duration: what the ring still holds is read below.
        }
        reader.Consume(onEvent);
        output.Flush();

        skel.Detach();
        // Events the BPF side could not send because the ring buffer was full (counted in its .bss).
        ulong dropped = skel.Bss.RbDropped;
        if (dropped > 0)
            Console.Error.WriteLine($"execsnoop: {dropped} events lost: the ring buffer was full");
        if (!options.Json)
        {
            Console.Out.WriteLine();
            lifetimes.Write(Console.Out, "usecs");
        }
        return 0;
    }
}
