using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using SharpFuzz;

namespace Ebpf.Fuzz;

/// <summary>
/// AFL++ harness for the object layer (SharpFuzz, in-process persistent mode).
/// <list type="bullet">
/// <item><c>Ebpf.Fuzz TARGET</c>: under afl-fuzz, reads each input from stdin; an unexpected exception is a crash.</item>
/// <item><c>Ebpf.Fuzz TARGET replay PATH...</c>: runs files (or every file of directories) and prints each unexpected
/// exception with its stack and each input slower than one second; exits 1 if any.</item>
/// </list>
/// Targets: object, btf, btfext, core (see <see cref="ObjectFuzzTargets"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Nothing of the (instrumented) object layer may run before Fuzzer.Run has mapped AFL's coverage map.
        string[] targets = { "object", "btf", "btfext", "core" };
        if (args.Length == 0 || Array.IndexOf(targets, args[0]) < 0)
        {
            Console.Error.WriteLine($"usage: Ebpf.Fuzz TARGET [replay PATH...]   (TARGET: {string.Join(", ", targets)})");
            return 2;
        }
        string target = args[0];
        if (args.Length > 1 && args[1] == "replay")
        {
            GiveInstrumentationAMap();
            ObjectFuzzTargets.Warm();
            return Replay(target, args[2..]);
        }

        bool warm = false;
        Fuzzer.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            var data = ms.ToArray();
            if (!warm)
            {
                ObjectFuzzTargets.Warm();
                warm = true;
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                ObjectFuzzTargets.Run(target, data);
            }
            catch (Exception e) when (ObjectFuzzTargets.IsExpected(e))
            {
            }
            CheckAllocation(data.Length, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        return 0;
    }

    /// <summary>Outside afl-fuzz, the instrumented code still writes its coverage somewhere: a private map.</summary>
    private static unsafe void GiveInstrumentationAMap()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
    }

    /// <summary>
    /// Counts larger than the input must be rejected before anything is allocated for them: an input that makes a
    /// target allocate far more than its own size is reported as a crash.
    /// </summary>
    private static void CheckAllocation(int inputLength, long allocated)
    {
        long limit = AllocationLimit(inputLength);
        if (allocated > limit)
            throw new InvalidOperationException($"a {inputLength}-byte input made the target allocate {allocated} bytes (limit {limit})");
    }

    /// <summary>64 MiB plus 256 bytes per input byte: generous for the dumps and the CO-RE pass, far below a count-driven allocation.</summary>
    public static long AllocationLimit(int inputLength) => (64L << 20) + 256L * inputLength;

    private static int Replay(string target, string[] paths)
    {
        var files = new List<string>();
        foreach (var p in paths)
        {
            if (Directory.Exists(p))
            {
                var inDir = Directory.GetFiles(p);
                Array.Sort(inDir, StringComparer.Ordinal);
                files.AddRange(inDir);
            }
            else
            {
                files.Add(p);
            }
        }
        int bad = 0, ok = 0, typed = 0;
        var sw = new Stopwatch();
        foreach (var f in files)
        {
            var data = File.ReadAllBytes(f);
            sw.Restart();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                ObjectFuzzTargets.Run(target, data);
                ok++;
            }
            catch (Exception e) when (ObjectFuzzTargets.IsExpected(e))
            {
                typed++;
            }
            catch (Exception e)
            {
                bad++;
                Console.WriteLine($"CRASH {f}: {e}");
            }
            sw.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationLimit(data.Length))
            {
                bad++;
                Console.WriteLine($"ALLOC {f}: {data.Length}-byte input allocated {allocated} bytes");
            }
            if (sw.ElapsedMilliseconds > 1000)
            {
                bad++;
                Console.WriteLine($"SLOW {f}: {sw.ElapsedMilliseconds} ms");
            }
        }
        Console.WriteLine($"{target}: {files.Count} inputs, {ok} accepted, {typed} rejected with a typed exception, {bad} problems");
        return bad == 0 ? 0 : 1;
    }
}
