using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// An object compiled without -g (no .BTF): the loader creates its global-data maps without BTF and attaches its
/// programs by section, which is what the untyped skeleton the generator makes for it relies on.
/// </summary>
public class NoBtfObjectTests
{
    [Fact]
    public void GlobalsAndProgramsWorkWithoutBtf()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("fidelity/nobtf_globals.bpf.o"));
        Assert.Null(obj.Spec.Btf);
        // Without BTF there are no named variables: the skeleton exposes .data and .bss as maps, offsets are the C layout's.
        obj.GetDataSection(".data").Write(0, (uint)Environment.ProcessId);
        obj.Load();
        Assert.Equal(ProgramKind.Tracepoint, obj.GetProgram("count_getpid").Kind);
        obj.Attach();
        try
        {
            for (int i = 0; i < 5; i++)
                Attach.AttachSupport.GetPid();
            var bss = obj.GetDataSection(".bss");
            Assert.True(Attach.AttachSupport.Eventually(() => bss.Read<ulong>(8) >= 5), $"getpid_calls = {bss.Read<ulong>(8)}");
            Assert.Equal(0ul, bss.Read<ulong>(0)); // count_packets is not attached: XDP needs an interface
        }
        finally
        {
            obj.Detach();
        }
    }
}
