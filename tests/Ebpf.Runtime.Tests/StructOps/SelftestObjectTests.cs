using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>
/// Five struct_ops objects of the kernel's BPF selftests (bpf/selftests, see its README) load as libbpf 1.1
/// loads them: every struct_ops map created, every program loaded; and registering each map succeeds or fails as
/// `bpftool struct_ops register` (libbpf 1.1) does. Nothing stays registered.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class SelftestObjectTests
{
    /// <summary>Object, struct_ops type, first Linux with it, maps, programs, maps the kernel registers.</summary>
    public static TheoryData<string, string, string, int, int, string> Objects() => new()
    {
        { "bpf_cubic", "tcp_congestion_ops", "5.6", 1, 7, "cubic" },
        { "bpf_dctcp", "tcp_congestion_ops", "5.6", 2, 7, "dctcp" },                 // dctcp_nouse lacks ssthresh: EINVAL
        { "dummy_st_ops", "bpf_dummy_ops", "5.17", 1, 2, "" },                       // test-run only: not registrable
        { "tcp_ca_incompl_cong_ops", "tcp_congestion_ops", "5.6", 1, 2, "" },        // no cong_avoid nor cong_control: EINVAL
        { "tcp_ca_write_sk_pacing", "tcp_congestion_ops", "5.6", 1, 4, "write_sk_pacing" },
    };

    /// <summary>Null when `bpftool prog loadall` (libbpf) loads the object here; else bpftool's last error line.</summary>
    private static string? LibbpfLoads(string name)
    {
        string bpftool = TestEnvironment.RequireTool("bpftool", "bpftool");
        TestEnvironment.RequireBpffs();
        string dir = "/sys/fs/bpf/ebpf-st-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        try
        {
            var (code, stdout, stderr) = TestEnvironment.Run(bpftool, new[] { "prog", "loadall", TestEnvironment.Bpf("selftests/" + name), dir });
            if (code == 0) return null;
            var lines = (stderr + stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.LastOrDefault(l => l.StartsWith("Error", StringComparison.Ordinal)) ?? (lines.Length > 0 ? lines[^1] : $"exit {code}");
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void LoadsAndRegistersAsLibbpfDoes(string name, string type, string firstLinux, int structOpsMaps, int programs, string registered)
    {
        RequireStructOpsType(type, firstLinux);
        var log = new ListLogger();
        var obj = BpfObject.Open(TestEnvironment.Bpf("selftests/" + name), new BpfObjectOptions { Logger = log });
        var names = new List<string>();
        try
        {
            try
            {
                obj.Load();
            }
            catch (BpfException e)
            {
                // These are the newest selftests: on an older kernel the verifier may refuse them whoever loads
                // them. Then libbpf (bpftool prog loadall) must fail too, or the failure is ours.
                if (LibbpfLoads(name) is { } libbpfError)
                    Assert.Skip($"{name}: this kernel ({Environment.OSVersion.Version}) refuses it with libbpf too ({libbpfError}); ours: {e.Message}");
                Assert.Fail($"{name}: libbpf (bpftool prog loadall) loads it on this kernel, but we fail: {e.Message}\n{string.Join("\n", log.Lines)}");
            }
            Assert.Equal(structOpsMaps, obj.StructOps.Count);
            Assert.All(obj.StructOps, s => Assert.True(s.Map.IsLoaded, $"struct_ops map {s.Name} was not created"));
            Assert.Equal(programs, obj.Programs.Count(p => p.IsLoaded));
            var ok = new List<string>();
            foreach (var ops in obj.StructOps)
            {
                if (ops.Members.Any(m => m.Name == "name"))
                {
                    names.Add(ops.GetString("name"));
                    Assert.False(IsAvailable(ops.GetString("name")), $"{ops.GetString("name")} is registered by someone else");
                }
                try
                {
                    ops.Attach();
                    ok.Add(ops.Name);
                }
                catch (BpfSyscallException e)
                {
                    Assert.Contains(ops.Name, e.Message);
                }
            }
            Assert.Equal(registered, string.Join(",", ok));
        }
        finally
        {
            obj.Dispose();
        }
        foreach (var n in names)
            Assert.False(IsAvailable(n), $"{n} is still registered after Dispose");
    }
}
