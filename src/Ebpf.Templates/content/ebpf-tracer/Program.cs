using System.Runtime.InteropServices;
using Ebpf;
using MyTool;

// MyTool: prints every exec on this machine, read from the ring buffer of tracer.bpf.c.
// Run as root (or with CAP_BPF and CAP_PERFMON):  sudo dotnet run [-- --duration SECONDS] [--pid PID]
double duration = 0;
uint targetPid = 0;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--duration" && i + 1 < args.Length) duration = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
    else if (args[i] == "--pid" && i + 1 < args.Length) targetPid = uint.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
    else { Console.Error.WriteLine("usage: MyTool [--duration SECONDS] [--pid PID]"); return 2; }
}

using var stop = new CancellationTokenSource();
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
if (duration > 0)
    stop.CancelAfter(TimeSpan.FromSeconds(duration));

try
{
    // Open parses the embedded object; read-only globals are set before Load; Load relocates (CO-RE) against this
    // kernel's BTF and loads maps and programs; Attach attaches handle_exec to its tracepoint.
    using var skel = TracerSkeleton.Open();
    skel.Rodata.TargetPid = targetPid;
    skel.Load();
    skel.Attach();
    using var reader = skel.Maps.Events.CreateReader();
    Console.WriteLine("Tracing exec, Ctrl-C to stop.");
    Console.WriteLine($"{"PID",-8} {"PPID",-8} {"COMM",-16} FILENAME");

    // Each record is the C struct event, read in place as the generated TracerSkeleton.Event.
    RingBufferEventHandler<TracerSkeleton.Event> print = (ref readonly TracerSkeleton.Event e) =>
        Console.WriteLine($"{e.Pid,-8} {e.Ppid,-8} {e.GetCommString(),-16} {e.GetFilenameString()}");
    while (!stop.IsCancellationRequested)
        reader.Poll(print, TimeSpan.FromMilliseconds(100));
    reader.Consume(print);
    return 0;
}
catch (BpfException e)
{
    Console.Error.WriteLine("MyTool: " + e.Message);
    return 1;
}
