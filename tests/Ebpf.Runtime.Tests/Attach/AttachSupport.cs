using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// Tests that count events of this whole process (syscalls, execs, forks, packets) run in this collection, alone:
/// anything running in parallel in the same process would add to the counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelEventsCollection
{
    public const string Name = "kernel-events";
}

/// <summary>Shared helpers of the attach tests: global variables, link listings, skips with the kernel's reason.</summary>
internal static partial class AttachSupport
{
    public static int Off(BpfDataSection s, string name) => (int)(s.FindVariable(name) ?? throw new InvalidOperationException($"no variable {name} in {s.SectionName}")).Offset;

    public static ulong Bss(BpfObject obj, string name)
    {
        var bss = obj.GetDataSection(".bss");
        return bss.Read<ulong>(Off(bss, name));
    }

    public static T Bss<T>(BpfObject obj, string name) where T : unmanaged
    {
        var bss = obj.GetDataSection(".bss");
        return bss.Read<T>(Off(bss, name));
    }

    /// <summary>A global in whichever data section holds it (.bss, .data).</summary>
    public static T Global<T>(BpfObject obj, string name) where T : unmanaged
    {
        foreach (var s in obj.DataSections)
            if (s.FindVariable(name) is { } v && s.SectionName != ".rodata")
                return s.Read<T>((int)v.Offset);
        throw new InvalidOperationException($"no variable {name} in {obj.Name}");
    }

    public static void SetRodata<T>(BpfObject obj, string name, T value) where T : unmanaged
    {
        var ro = obj.GetDataSection(".rodata");
        ro.Write(Off(ro, name), value);
    }

    /// <summary>Loads an object, setting target_tgid (when it has one) to this process first.</summary>
    public static BpfObject Load(string name, Action<BpfObject>? configure = null)
    {
        var obj = KernelSupport.OpenAndLoad(name, ForThisProcess(configure));
        // Leave nothing on the host's bpffs: maps pinned by name (maps.bpf.o's pinned_map) live on through the
        // object's descriptors without their pins.
        foreach (var m in obj.Maps)
            if (m.PinPath != null) m.Unpin();
        return obj;
    }

    /// <summary>Sets target_tgid (when the object has one) to this process, then runs <paramref name="configure"/>.</summary>
    public static Action<BpfObject> ForThisProcess(Action<BpfObject>? configure = null) => obj =>
    {
        var ro = obj.DataSections.FirstOrDefault(s => s.SectionName == ".rodata");
        if (ro?.FindVariable("target_tgid") != null)
            ro.Write(Off(ro, "target_tgid"), Environment.ProcessId);
        configure?.Invoke(obj);
    };

    /// <summary>The kernel links (bpftool link) whose program is one of <paramref name="programs"/>.</summary>
    public static List<string> LinksOf(params BpfProgram[] programs)
    {
        var ids = new HashSet<uint>(programs.Where(p => p.Id != 0).Select(p => p.Id));
        var bpftool = TestEnvironment.Which("bpftool");
        if (bpftool == null) return LinksByEnumeration(ids);
        var (code, stdout, stderr) = TestEnvironment.Run(bpftool, new[] { "-j", "link", "show" });
        Assert.True(code == 0, $"bpftool link show failed: {stderr}");
        var result = new List<string>();
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(stdout) ? "[]" : stdout);
        foreach (var l in doc.RootElement.EnumerateArray())
        {
            if (l.TryGetProperty("prog_id", out var pid) && ids.Contains(pid.GetUInt32()))
            {
                var type = l.GetProperty("type"); // bpftool prints the number for link types it does not know (tcx with bpftool 7.1)
                result.Add($"link {l.GetProperty("id").GetUInt32()} ({(type.ValueKind == JsonValueKind.String ? type.GetString() : "type " + type.GetRawText())}) of prog {pid.GetUInt32()}");
            }
        }
        return result;
    }

    private static List<string> LinksByEnumeration(HashSet<uint> ids)
    {
        // Without bpftool: walk the kernel's link ids ourselves.
        var result = new List<string>();
        var sys = Ebpf.Kernel.Syscalls.Current;
        uint id = 0;
        while (Ebpf.Kernel.BpfSys.GetNextId(sys, BpfCommand.LinkGetNextId, id, out uint next) == 0)
        {
            id = next;
            using var h = Ebpf.Kernel.BpfSys.GetFdById(sys, BpfCommand.LinkGetFdById, id, BpfHandleKind.Link, out _);
            if (h == null) continue;
            var info = new Ebpf.Kernel.LinkInfo();
            Ebpf.Kernel.BpfSys.GetInfo(sys, h, ref info);
            if (ids.Contains(info.ProgId)) result.Add($"link {info.Id} of prog {info.ProgId}");
        }
        return result;
    }

    public static void AssertNoLinks(params BpfProgram[] programs)
    {
        var left = LinksOf(programs);
        Assert.True(left.Count == 0, "links left behind: " + string.Join("; ", left));
    }

    [DllImport("libc", EntryPoint = "getppid")]
    public static extern int GetPpid();

    [DllImport("libc", EntryPoint = "getpgid", SetLastError = true)]
    public static extern int GetPgid(int pid);

    [DllImport("libc", EntryPoint = "getpid")]
    public static extern int GetPid();

    [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
    public static extern int Unlink(string path);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int OpenFile(string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int CloseFile(int fd);

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static extern int SetNs(int fd, int nstype);

    /// <summary>Starts <paramref name="count"/> short-lived children (/bin/true), each of which execs once.</summary>
    public static void SpawnChildren(int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
            p.WaitForExit();
        }
    }

    /// <summary>Runs a command, failing the test when it fails.</summary>
    public static string Sh(string exe, params string[] args)
    {
        var (code, stdout, stderr) = TestEnvironment.Run(exe, args);
        if (code != 0)
            throw new InvalidOperationException($"{exe} {string.Join(" ", args)} failed ({code}): {stderr.Trim()} {stdout.Trim()}");
        return stdout;
    }

    /// <summary>Polls <paramref name="condition"/> for up to <paramref name="ms"/> milliseconds.</summary>
    public static bool Eventually(Func<bool> condition, int ms = 2000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < ms)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }
}
