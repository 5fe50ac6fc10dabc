using System;
using System.IO;
using Ebpf;

// Open bench.bpf.o from its file, load it, attach count_getpid, print "attached <peak RSS in kB>", exit.
// The libbpf twin (Compare/coldstart_twin.c) does exactly the same.
string path = args.Length > 0 ? args[0] : "bench.bpf.o";
using var obj = BpfObject.Open(path);
obj.Load();
using var link = obj.GetProgram("count_getpid").Attach();
Console.Out.Write("attached " + VmHwmKb() + "\n");
Console.Out.Flush();
return 0;

static long VmHwmKb()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
    return -1;
}
