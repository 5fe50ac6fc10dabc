using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using Ebpf.Generator.Emitter;
using Ebpf.Generator.Model;
using Ebpf.Generator.Parser;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// Walks every row of the section table (libbpf's section_defs[]): bpf/rows/section_rows.bpf.o has one program per
/// row. For each, the generator's model and emitted skeleton name the wrapper of the row's program kind, the
/// wrapper accepts the program, and the program's Attach() goes to that kind: on this kernel when the kind can
/// attach here (the link is of the kind's type), otherwise through the kind's wrapper to the kernel's refusal or,
/// for programs the kernel does not load here, to the wrapper's attach path (seen in the stack of the error).
/// </summary>
public class SectionRowTests
{
    private readonly ITestOutputHelper _output;

    public SectionRowTests(ITestOutputHelper output) => _output = output;

    private static string RowsObject => Path.Combine(TestEnvironment.RepoRoot, "bpf", "rows", "section_rows.bpf.o");

    /// <summary>The program of a row, as bpf/rows/section_rows.bpf.c names it.</summary>
    internal static string ProgramName(SectionDefinition row)
    {
        var sb = new System.Text.StringBuilder("r_");
        bool gap = false;
        foreach (char c in row.Prefix)
        {
            bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!keep) { gap = true; continue; }
            if (gap && sb.Length > 2) sb.Append('_');
            gap = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string WrapperOf(ProgramKind kind) => kind == ProgramKind.None ? nameof(BpfProgram) : kind + "Program";

    [Fact]
    public void EveryRow_GetsTheWrapperOfItsKind_WhichAcceptsIt_AndAttachGoesToThatKind()
    {
        var bytes = File.ReadAllBytes(RowsObject);
        var options = new SkeletonOptions(RowsObject, "section_rows", "SectionRowsSkeleton", "Rows", SkeletonOptions.DefaultResourceName("section_rows.bpf.o"),
            ImmutableEquatableArray<string>.Empty);
        var generated = SkeletonModelBuilder.Build(options, bytes, TestContext.Current.CancellationToken);
        var model = generated.Model ?? throw new Xunit.Sdk.XunitException("no skeleton: " + string.Join("; ", generated.Diagnostics.Select(d => d.ToString())));
        string source = SkeletonEmitter.Emit(model);
        Assert.Equal(SectionDefinitions.All.Count, model.Programs.Count);

        bool root = Environment.UserName == "root" || Environment.GetEnvironmentVariable("EBPF_GUEST_KERNEL") != null;
        var outcomes = new List<(SectionDefinition Row, string Outcome)>();
        using var kernel = root ? new KernelTargets() : null;
        foreach (var row in SectionDefinitions.All)
        {
            string name = ProgramName(row);
            var program = model.Programs.SingleOrDefault(p => p.Name == name)
                ?? throw new Xunit.Sdk.XunitException($"row '{row.Pattern}': bpf/rows/section_rows.bpf.c has no program {name}");

            // The generator: the wrapper is the row's kind, and the skeleton constructs it from the object's program.
            string wrapper = WrapperOf(row.ProgramKind);
            Assert.Equal(wrapper, program.WrapperType);
            Assert.Equal(row.AttachKind.ToString(), program.AttachKind);
            Assert.Contains(wrapper == nameof(BpfProgram)
                ? $"= @object.GetProgram(\"{name}\");"
                : $"= new global::Ebpf.{wrapper}(@object.GetProgram(\"{name}\"));", source, StringComparison.Ordinal);

            // Open: the section resolves to this row, and the wrapper the skeleton builds accepts the program.
            using var obj = BpfObject.Open(bytes, "section_rows");
            var p = obj.GetProgram(name);
            Assert.Same(row, p.Section!.Value.Definition);
            Assert.Equal(row.ProgramKind, p.Kind);
            object made = Construct(wrapper, p);
            Assert.Equal(made.GetType(), TypedProgram.For(p)?.GetType() ?? typeof(BpfProgram));

            outcomes.Add((row, kernel == null ? Dispatch(row, p, wrapper, loaded: false) : LoadAndAttach(row, obj, p, wrapper, kernel)));
        }

        foreach (var group in outcomes.GroupBy(o => o.Outcome.Split(':', '(')[0].Trim()).OrderBy(g => g.Key, StringComparer.Ordinal))
            _output.WriteLine($"{group.Key}: {group.Count()} ({string.Join(", ", group.Select(o => o.Row.Pattern))})");
        foreach (var (row, outcome) in outcomes)
            _output.WriteLine($"  {row.Pattern,-24} {outcome}");
        Assert.Equal(SectionDefinitions.All.Count, outcomes.Count);
        if (kernel == null)
            Assert.Skip($"every row's wrapper and dispatch checked ({outcomes.Count} rows); loading and attaching them needs root");
    }

    /// <summary>What the generated skeleton does: <c>new global::Ebpf.{wrapper}(@object.GetProgram(name))</c>.</summary>
    private static object Construct(string wrapper, BpfProgram program)
    {
        if (wrapper == nameof(BpfProgram)) return program;
        var type = typeof(BpfProgram).Assembly.GetType("Ebpf." + wrapper, throwOnError: true)!;
        try
        {
            return Activator.CreateInstance(type, program)!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException != null)
        {
            throw new Xunit.Sdk.XunitException($"{wrapper} refuses program {program.Name} of SEC(\"{program.SectionName}\"): {e.InnerException.Message}");
        }
    }

    private static string LoadAndAttach(SectionDefinition row, BpfObject obj, BpfProgram p, string wrapper, KernelTargets kernel)
    {
        foreach (var other in obj.Programs)
            other.Autoload = ReferenceEquals(other, p);
        try
        {
            obj.Load();
        }
        catch (BpfException e)
        {
            // The kernel (or the loader, for kinds that need more than the object: freplace, struct_ops) refuses this
            // program here: the dispatch is still checked, up to the kind's attach path.
            return Dispatch(row, p, wrapper, loaded: false) + " (not loaded here: " + FirstLine(e.Message) + ")";
        }
        return Dispatch(row, p, wrapper, loaded: true, kernel);
    }

    /// <summary>
    /// Calls the program's Attach() and checks where it went: a link of the kind's type, an error raised inside the
    /// kind's wrapper (a kernel refusal, or "not loaded"), or, when the section does not say where to attach, the
    /// wrapper's hint; then, for loaded programs of kinds that need a target, the wrapper's own attach method.
    /// </summary>
    private static string Dispatch(SectionDefinition row, BpfProgram p, string wrapper, bool loaded, KernelTargets? kernel = null)
    {
        if (row.ProgramKind == ProgramKind.None)
        {
            var e = Assert.Throws<NotSupportedException>(() => p.Attach());
            Assert.Contains(row.AttachKind.ToString(), e.Message, StringComparison.Ordinal);
            return "no attach path: " + row.AttachKind;
        }

        if (p.Section!.Value.IsAutoAttachable)
        {
            BpfLink link;
            try
            {
                link = p.Attach();
            }
            catch (Exception e) when (e is BpfException or InvalidOperationException or NotSupportedException)
            {
                Assert.Contains($"Ebpf.{wrapper}.AttachBySection", e.StackTrace ?? string.Empty, StringComparison.Ordinal);
                return (loaded ? "refused by the kernel in " : "dispatched to ") + wrapper + ": " + FirstLine(e.Message);
            }
            using (link)
            {
                Assert.True(loaded);
                CheckLink(row, p, link);
                return "attached: " + link.GetType().Name + " " + link.Target;
            }
        }

        var hint = Assert.Throws<InvalidOperationException>(() => p.Attach());
        Assert.Contains(wrapper + ".", hint.Message, StringComparison.Ordinal);
        if (!loaded || kernel == null)
            return "dispatched to " + wrapper + " (needs a target)";
        try
        {
            using var link = kernel.AttachExplicitly(p);
            if (link == null)
                return "dispatched to " + wrapper + " (ran with BPF_PROG_TEST_RUN)";
            CheckLink(row, p, link);
            return "attached: " + link.GetType().Name + " " + link.Target;
        }
        catch (BpfException e)
        {
            return "refused by the kernel in " + wrapper + ": " + FirstLine(e.Message);
        }
    }

    /// <summary>The link of a kind: its type, direction and target.</summary>
    private static void CheckLink(SectionDefinition row, BpfProgram p, BpfLink link)
    {
        Assert.Same(p, link.Program);
        var expected = row.AttachKind switch
        {
            AutoAttachKind.Kprobe or AutoAttachKind.Kretprobe or AutoAttachKind.Ksyscall or AutoAttachKind.Kretsyscall => typeof(KprobeLink),
            AutoAttachKind.KprobeMulti or AutoAttachKind.KretprobeMulti or AutoAttachKind.KprobeSession => typeof(KprobeMultiLink),
            AutoAttachKind.Uprobe or AutoAttachKind.Uretprobe => typeof(UprobeLink),
            AutoAttachKind.UprobeMulti or AutoAttachKind.UretprobeMulti or AutoAttachKind.UprobeSession => typeof(UprobeMultiLink),
            AutoAttachKind.Usdt => typeof(UsdtLink),
            AutoAttachKind.Tracepoint => typeof(TracepointLink),
            AutoAttachKind.RawTracepoint => typeof(RawTracepointLink),
            AutoAttachKind.TracingBtf or AutoAttachKind.Lsm or AutoAttachKind.Freplace => typeof(TracingLink),
            AutoAttachKind.Iterator => typeof(IteratorLink),
            AutoAttachKind.Xdp => typeof(XdpLink),
            AutoAttachKind.Tcx or AutoAttachKind.Tc => typeof(BpfLink), // tcx link, or a clsact filter before 6.6
            AutoAttachKind.Netkit => typeof(NetkitLink),
            AutoAttachKind.CgroupLink => typeof(CgroupLink),
            AutoAttachKind.SocketFilter => typeof(SocketFilterAttachment),
            AutoAttachKind.SkLookup or AutoAttachKind.FlowDissector => typeof(NetNsLink),
            AutoAttachKind.PerfEvent => typeof(PerfEventLink),
            _ => throw new Xunit.Sdk.XunitException($"row '{row.Pattern}': {row.AttachKind} made a link ({link})"),
        };
        Assert.IsAssignableFrom(expected, link);
        // The skeleton's Links property of this program has the kind's link type, and the object owns the link.
        var generated = typeof(BpfLink).Assembly.GetType("Ebpf." + SkeletonModelBuilder.ProgramLink(row.ProgramKind), throwOnError: true)!;
        Assert.IsAssignableFrom(generated, link);
        Assert.Contains(link, p.Object!.Links);
        if (row.AttachKind is AutoAttachKind.Tcx or AutoAttachKind.Tc)
            Assert.True(link is TcxLink or TcClsactLink, link.GetType().Name);
        bool isReturn = link switch
        {
            KprobeLink k => k.IsReturnProbe,
            UprobeLink u => u.IsReturnProbe,
            KprobeMultiLink km => km.IsReturnProbe,
            UprobeMultiLink um => um.IsReturnProbe,
            _ => false,
        };
        Assert.Equal(row.IsReturnProbe, isReturn);
        var target = p.Section!.Value.ParsedTarget;
        if (target?.Function is { } f) Assert.Contains(f, link.Target, StringComparison.Ordinal);
        if (target?.Category is { } c) Assert.Contains(c + "/" + target.Name, link.Target, StringComparison.Ordinal);
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return nl < 0 ? s : s.Substring(0, nl);
    }

    /// <summary>What the kinds that need a target attach to: a veth pair and its namespace, a cgroup, a socket, a perf event.</summary>
    private sealed class KernelTargets : IDisposable
    {
        private VethPair? _veth;
        private CgroupAttachTests.TestCgroup? _cgroup;
        private readonly Socket _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public KernelTargets()
        {
            // The USDT rows name the tests' native library by file name: it is found in this process's maps.
            _ = NativeTarget.LibraryPath;
        }

        private VethPair Veth => _veth ??= new VethPair();

        private CgroupAttachTests.TestCgroup Cgroup => _cgroup ??= new CgroupAttachTests.TestCgroup();

        /// <summary>Attaches with the wrapper's own method; null for syscall programs, which are run instead.</summary>
        public BpfLink? AttachExplicitly(BpfProgram p)
        {
            switch (TypedProgram.For(p))
            {
                case XdpProgram xdp:
                    return xdp.Attach(Veth.HostInterface, XdpAttachMode.Generic);
                case TcProgram tc:
                    // The section's side (tcx/egress, ...); ingress for SEC("tc") / SEC("classifier"), which name none.
                    return tc.Attach(Veth.HostInterface, p.ExpectedAttachType is null ? TcAttachPoint.Ingress : null);
                case NetkitProgram netkit:
                    // No netkit device here unless the kernel has CONFIG_NETKIT (6.7): attaching to the veth must be refused.
                    return netkit.Attach(Veth.HostInterface);
                case CgroupProgram cgroup:
                    // SEC("cgroup/skb") names no direction: ingress then.
                    return cgroup.Attach(Cgroup.Path, p.ExpectedAttachType ?? BpfAttachType.CgroupInetIngress);
                case SocketFilterProgram socket:
                    return socket.Attach(_socket);
                case SkLookupProgram lookup:
                    return lookup.Attach(Veth.NamespacePath);
                case FlowDissectorProgram dissector:
                    return dissector.Attach(Veth.NamespacePath);
                case PerfEventProgram perf:
                    return perf.Attach(PerfEventSpec.Software(PerfSoftwareEvent.CpuClock, 1_000_000), pid: Environment.ProcessId, cpu: -1);
                case SyscallProgram syscall:
                    Assert.Equal(1, syscall.Run());
                    return null;
                default:
                    throw new Xunit.Sdk.XunitException($"program {p.Name}: no explicit attach in this test for {p.Kind}");
            }
        }

        public void Dispose()
        {
            _socket.Dispose();
            _veth?.Dispose();
            _cgroup?.Dispose();
        }
    }
}
