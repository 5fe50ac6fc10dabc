using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>uprobe, uretprobe, uprobe.multi and USDT on a native library this process calls, counted exactly.</summary>
[Collection(KernelEventsCollection.Name)]
public class UprobeAttachTests
{
    [Fact]
    public void UprobeAndUretprobeOnALibraryFunctionCountEveryCall()
    {
        string lib = NativeTarget.LibraryPath;
        using var obj = Load("attach_uprobe");
        var entry = new UprobeProgram(obj.GetProgram("uprobe_manual"));
        var exit = new UprobeProgram(obj.GetProgram("uretprobe_manual"));
        using (var l1 = entry.Attach(lib, "uprobe_target_func"))
        using (var l2 = exit.Attach(lib, "uprobe_target_func"))
        {
            Assert.False(l1.IsReturnProbe);
            Assert.True(l2.IsReturnProbe); // from SEC("uretprobe")
            Assert.Equal(lib, l1.BinaryPath);
            Assert.Equal(-1, l1.Pid);
            Assert.StartsWith($"uprobe {lib}:uprobe_target_func", l1.Target);
            int sum = 0;
            for (int i = 1; i <= 25; i++) sum += NativeTarget.Target(i, 2 * i);
            Assert.Equal(3 * 25 * 26 / 2, sum);
            Assert.Equal(25ul, Bss(obj, "uprobe_manual_hits"));
            Assert.Equal(25ul, Bss(obj, "uretprobe_manual_hits"));
            Assert.Equal(25, Bss<int>(obj, "last_a"));
            Assert.Equal(50, Bss<int>(obj, "last_b"));
            Assert.Equal(75, Bss<int>(obj, "last_ret"));
            Assert.Equal(KernelSupport.PerfLinks(2), LinksOf(entry.Program, exit.Program).Count);
        }
        NativeTarget.Target(1, 1);
        Assert.Equal(25ul, Bss(obj, "uprobe_manual_hits"));
        AssertNoLinks(entry.Program, exit.Program);
    }

    [Fact]
    public void APidLimitsTheProbeToOneProcess()
    {
        string lib = NativeTarget.LibraryPath;
        using var obj = Load("attach_uprobe", o => SetRodata(o, "target_tgid", 0)); // count every process's hits
        var prog = new UprobeProgram(obj.GetProgram("uprobe_manual"));
        using (var mine = prog.Attach(lib, "uprobe_target_func", pid: Environment.ProcessId))
        {
            Assert.Equal(Environment.ProcessId, mine.Pid);
            for (int i = 0; i < 9; i++) NativeTarget.Target(i, i);
            Assert.Equal(9ul, Bss(obj, "uprobe_manual_hits"));
        }
        using var other = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        try
        {
            using var theirs = prog.Attach(lib, "uprobe_target_func", pid: other.Id);
            for (int i = 0; i < 5; i++) NativeTarget.Target(i, i);
            Assert.Equal(9ul, Bss(obj, "uprobe_manual_hits")); // our calls are not theirs
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }

    [Fact]
    public void TracefsUprobeEventsWorkAndAreRemovedOnDispose()
    {
        string lib = NativeTarget.LibraryPath;
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_uprobe");
        var prog = new UprobeProgram(obj.GetProgram("uretprobe_manual"));
        string events = Path.Combine(Tracefs.Root, "uprobe_events");
        if (!File.Exists(events)) Assert.Skip($"{events} does not exist (CONFIG_UPROBE_EVENTS is not set)");
        string name;
        using (var link = KernelSupport.OrSkip(() => prog.Attach(lib, "uprobe_target_func", mode: ProbeAttachMode.Legacy)))
        {
            Assert.True(link.IsLegacy);
            name = link.LegacyEventName!;
            Assert.StartsWith("uretprobes/ebpf_", name);
            Assert.Contains(name, File.ReadAllText(events));
            for (int i = 0; i < 6; i++) NativeTarget.Target(i, 1);
            Assert.Equal(6ul, Bss(obj, "uretprobe_manual_hits"));
            Assert.Equal(6, Bss<int>(obj, "last_ret"));
        }
        Assert.DoesNotContain(name, File.ReadAllText(events));
        AssertNoLinks(prog.Program);
    }

    [Fact]
    public void LibcIsFoundByItsShortNameAndGetpidIsProbed()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_uprobe");
        var prog = new UprobeProgram(obj.GetProgram("uprobe_manual"));
        foreach (var name in new[] { "libc.so.6", "c" })
        {
            ulong before = Bss(obj, "uprobe_manual_hits");
            using var link = prog.Attach(name, "getpid");
            Assert.Matches(@"/libc\.so\.6$", link.BinaryPath);
            for (int i = 0; i < 10; i++) GetPid();
            Assert.Equal(before + 10, Bss(obj, "uprobe_manual_hits"));
        }
        AssertNoLinks(prog.Program);
    }

    [Fact]
    public void SectionTargetsAreResolvedInThisProcessAndMissingSymbolsAreNamed()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_uprobe");
        // SEC("uprobe//proc/self/exe:uprobe_target_func"): our executable is the .NET host, which has no such function.
        var e = Assert.Throws<BpfException>(() => obj.GetProgram("uprobe_auto").Attach());
        Assert.Contains("function 'uprobe_target_func' is not in the symbol tables of '/proc/self/exe'", e.Message);
        var u = Assert.Throws<BpfException>(() => new UsdtProgram(obj.GetProgram("usdt_auto")).Attach());
        Assert.Contains("has no USDT probe ebpf_test:probe2", u.Message);
        var missing = Assert.Throws<BpfEnvironmentException>(() => new UprobeProgram(obj.GetProgram("uprobe_manual")).Attach("/no/such/binary", "f"));
        Assert.Contains("binary '/no/such/binary' does not exist", missing.Message);
        var unknown = Assert.Throws<BpfEnvironmentException>(() => new UprobeProgram(obj.GetProgram("uprobe_manual")).Attach("libdoesnotexist.so.9", "f"));
        Assert.Contains("cannot find binary 'libdoesnotexist.so.9'", unknown.Message);
    }

    /// <summary>
    /// Arguments, the user's cookie and the semaphore, on every kernel: with BPF cookies (5.15) each uprobe carries its
    /// spec id; before, the program finds the spec by the probe's address in __bpf_usdt_ip_to_spec_id, as with libbpf.
    /// The probes are in a shared library, so they are attached for this process (which an address needs).
    /// </summary>
    [Fact]
    public void UsdtProbesPassArgumentsCookiesAndSetTheirSemaphore()
    {
        string lib = NativeTarget.LibraryPath;
        using var obj = Load("attach_uprobe");
        var manual = new UsdtProgram(obj.GetProgram("usdt_manual"));
        var auto = new UsdtProgram(obj.GetProgram("usdt_auto"));
        bool byAddress = !Ebpf.Kernel.KernelFeatures.Current.BpfCookie;
        int pid = Environment.ProcessId;
        using (var l1 = manual.Attach(lib, "ebpf_test", "probe1", pid, cookie: 0xC0FFEE))
        {
            Assert.Equal(1, l1.SiteCount);
            Assert.Equal(byAddress, l1.UsesAddressMap);
            Assert.Equal(byAddress ? 1 : 0, MapKeys(obj, "__bpf_usdt_ip_to_spec_id"));
            for (int i = 1; i <= 12; i++) Assert.Equal(0, NativeTarget.FireProbes(i, -i));
            Assert.Equal(12ul, Bss(obj, "usdt_manual_hits"));
            Assert.Equal(12L, Bss<long>(obj, "last_usdt_a"));
            Assert.Equal(-12L, Bss<long>(obj, "last_usdt_b"));
            Assert.Equal(0xC0FFEEL, Bss<long>(obj, "last_usdt_cookie"));
        }

        // probe2 has a semaphore: the kernel raises it while the probe is attached, so the guarded site runs.
        Assert.False(NativeTarget.Probe2Enabled);
        using (var l2 = auto.Attach(lib, "ebpf_test", "probe2", pid))
        {
            Assert.True(NativeTarget.Probe2Enabled);
            for (int i = 1; i <= 4; i++) Assert.Equal(1, NativeTarget.FireProbes(i, 7));
            Assert.Equal(4ul, Bss(obj, "usdt_auto_hits"));
            Assert.Equal(40L, Bss<long>(obj, "last_usdt_a"));
            Assert.Equal(70L, Bss<long>(obj, "last_usdt_b"));
        }
        Assert.False(NativeTarget.Probe2Enabled);
        NativeTarget.FireProbes(1, 1);
        Assert.Equal(12ul, Bss(obj, "usdt_manual_hits"));
        Assert.Equal(4ul, Bss(obj, "usdt_auto_hits"));
        Assert.Equal(0, MapKeys(obj, "__bpf_usdt_ip_to_spec_id")); // detaching removed the addresses
        AssertNoLinks(manual.Program, auto.Program);
    }

    /// <summary>
    /// A probe in a shared library for every process: with BPF cookies (5.15) it attaches once for all; without, the
    /// run-time address differs per process, so (as with libbpf) it needs a pid and the error says so and names the
    /// feature. An address holds one spec per object: a second attachment there is refused by name, not silently
    /// overwritten.
    /// </summary>
    [Fact]
    public void UsdtInASharedLibraryForEveryProcessNeedsBpfCookies()
    {
        string lib = NativeTarget.LibraryPath;
        using var obj = Load("attach_uprobe");
        var manual = new UsdtProgram(obj.GetProgram("usdt_manual"));
        if (Ebpf.Kernel.KernelFeatures.Current.BpfCookie)
        {
            using var link = manual.Attach(lib, "ebpf_test", "probe1", cookie: 7);
            Assert.False(link.UsesAddressMap);
            for (int i = 1; i <= 3; i++) NativeTarget.FireProbes(i, i);
            Assert.Equal(3ul, Bss(obj, "usdt_manual_hits"));
            Assert.Equal(7L, Bss<long>(obj, "last_usdt_cookie"));
        }
        else
        {
            var e = Assert.Throws<BpfNotSupportedException>(() => manual.Attach(lib, "ebpf_test", "probe1"));
            Assert.Equal("BPF cookies", e.Feature);
            Assert.Equal("5.15", e.MinimumKernel);
            Assert.Contains("pass a pid", e.Message);
            Assert.Equal(0, MapKeys(obj, "__bpf_usdt_ip_to_spec_id"));
            using var first = manual.Attach(lib, "ebpf_test", "probe1", Environment.ProcessId);
            var again = Assert.Throws<BpfException>(() => manual.Attach(lib, "ebpf_test", "probe1", Environment.ProcessId));
            Assert.Contains("already attached", again.Message);
            Assert.Equal(1, MapKeys(obj, "__bpf_usdt_ip_to_spec_id"));
        }
        AssertNoLinks(manual.Program);
    }

    private static int MapKeys(BpfObject obj, string map)
    {
        var m = obj.GetMap(map);
        var key = new byte[m.KeySize];
        var next = new byte[m.KeySize];
        int n = 0;
        for (bool first = true; m.TryGetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next); first = false, n++)
            next.CopyTo(key, 0);
        return n;
    }

    [Fact]
    public void UprobeMultiAttachesEveryMatchingFunctionInOneLink()
    {
        string lib = NativeTarget.LibraryPath;
        using var obj = Load("attach_uprobe", o => o.GetProgram("uprobe_manual").ExpectedAttachType = BpfAttachType.TraceUprobeMulti);
        var prog = new UprobeProgram(obj.GetProgram("uprobe_manual"));
        using (var link = KernelSupport.OrSkip(() => prog.AttachMulti(lib, "uprobe_target_*")))
        {
            Assert.Single(link.Offsets);
            Assert.Equal(BpfLinkType.UprobeMulti, link.LinkType);
            for (int i = 0; i < 8; i++) NativeTarget.Target(3, 4);
            Assert.Equal(8ul, Bss(obj, "uprobe_manual_hits"));
            Assert.Equal(3, Bss<int>(obj, "last_a"));
        }
        AssertNoLinks(prog.Program);
    }

    [Fact]
    public void LibraryNamesMatchLikeTheDynamicLinker()
    {
        Assert.True(BinaryResolver.Matches("libc.so.6", "libc.so.6"));
        Assert.True(BinaryResolver.Matches("libc.so.6", "libc.so"));
        Assert.True(BinaryResolver.Matches("libc.so.6", "libc"));
        Assert.True(BinaryResolver.Matches("libc.so.6", "c"));
        Assert.True(BinaryResolver.Matches("libssl.so.3", "ssl"));
        Assert.False(BinaryResolver.Matches("libcap.so.2", "c"));
        Assert.False(BinaryResolver.Matches("libc.so.6.bak", "c"));
        Assert.False(BinaryResolver.Matches("libcrypt.so.1", "libc"));
        var cached = BinaryResolver.FromLdSoCache("libc.so.6");
        if (File.Exists("/etc/ld.so.cache"))
        {
            Assert.NotNull(cached);
            Assert.True(File.Exists(cached));
        }
    }

    /// <summary>
    /// probe3's arguments are stack slots, so its spec dereferences the stack pointer plus an offset in the probed
    /// binary's syntax ("-8@-16(%rsp)" on x86-64, "-8@[sp]" and "-8@[sp, 8]" on arm64): the spec decoded for the
    /// binary's architecture, the register's offset in that architecture's user pt_regs, read by usdt.bpf.h.
    /// </summary>
    [Fact]
    public void UsdtArgumentsInMemoryAreReadThroughTheStackPointer()
    {
        string lib = NativeTarget.LibraryPath;
        var elf = ElfBinary.Open(lib);
        string spec;
        try
        {
            spec = Usdt.ReadNotes(elf, "ebpf_test", "probe3").Single().Arguments;
        }
        finally
        {
            elf.Close();
        }
        Assert.Matches(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? @"^-8@\[sp(, \d+)?\] -8@\[sp(, \d+)?\]$" : @"^-8@-?\d*\(%[re][sb]p\) -8@-?\d*\(%[re][sb]p\)$", spec);
        using var obj = Load("attach_uprobe");
        var manual = new UsdtProgram(obj.GetProgram("usdt_manual"));
        using (var link = manual.Attach(lib, "ebpf_test", "probe3", Environment.ProcessId, cookie: 33))
        {
            for (int i = 1; i <= 5; i++) NativeTarget.FireProbes(i, -i);
            Assert.Equal(5ul, Bss(obj, "usdt_manual_hits"));
            Assert.Equal(1005L, Bss<long>(obj, "last_usdt_a"));
            Assert.Equal(-1005L, Bss<long>(obj, "last_usdt_b"));
            Assert.Equal(33L, Bss<long>(obj, "last_usdt_cookie"));
        }
        NativeTarget.FireProbes(1, 1);
        Assert.Equal(5ul, Bss(obj, "usdt_manual_hits"));
        AssertNoLinks(manual.Program);
    }

    [Fact]
    public void ElfSymbolsResolveToFileOffsets()
    {
        string lib = NativeTarget.LibraryPath;
        var elf = ElfBinary.Open(lib);
        try
        {
            ulong target = elf.FindFunctionOffset("uprobe_target_func");
            ulong fire = elf.FindFunctionOffset("fire_probes");
            Assert.NotEqual(target, fire);
            // the offset really points at the function: the file's bytes there are the code this process runs at the
            // function's address (whatever the architecture's instruction encoding)
            var bytes = File.ReadAllBytes(lib);
            var code = new byte[16];
            System.Runtime.InteropServices.Marshal.Copy(NativeTarget.Export("uprobe_target_func"), code, 0, code.Length);
            Assert.Equal(code, bytes.AsSpan((int)target, code.Length).ToArray());
            System.Runtime.InteropServices.Marshal.Copy(NativeTarget.Export("fire_probes"), code, 0, code.Length);
            Assert.Equal(code, bytes.AsSpan((int)fire, code.Length).ToArray());
            var notes = Usdt.ReadNotes(elf, "ebpf_test", null).ToDictionary(n => n.Name);
            Assert.Equal(new[] { "probe1", "probe2", "probe3" }, notes.Keys.Order().ToArray());
            Assert.Equal(0ul, notes["probe1"].SemaphoreOffset);
            Assert.NotEqual(0ul, notes["probe2"].SemaphoreOffset);
            Assert.True(notes["probe1"].FileOffset >= fire && notes["probe1"].FileOffset < fire + 64);
            var e = Assert.Throws<BpfException>(() => elf.FindFunctionOffset("no_such_function"));
            Assert.Contains("function 'no_such_function' is not in the symbol tables", e.Message);
        }
        finally
        {
            elf.Close();
        }
    }
}
