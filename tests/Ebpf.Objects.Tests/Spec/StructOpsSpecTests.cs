using System;
using System.IO;
using System.Linq;
using System.Text;
using Ebpf.Objects;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Objects.Tests.Spec;

/// <summary>.struct_ops and .struct_ops.link variables as map specs; struct_ops programs and the members they implement.</summary>
public class StructOpsSpecTests
{
    private static BpfObjectSpec Parse(string name) =>
        BpfObjectSpec.Parse(File.ReadAllBytes(TestEnvironment.Bpf(name)), BpfObjectSpec.ObjectNameFromPath(name));

    [Fact]
    public void AStructOpsVariableIsAMapWithItsValueAndCallbacks()
    {
        var spec = Parse("struct_ops_tcp");
        var map = spec.FindMap("ebpf_reno")!;
        Assert.Equal(MapOrigin.StructOps, map.Origin);
        Assert.Equal(BpfMapType.StructOps, map.Type);
        Assert.False(map.IsInternal);
        Assert.True(map.Autocreate);
        Assert.Equal((4u, 1u, BpfMapFlags.None), (map.KeySize, map.MaxEntries, map.Flags));
        Assert.Equal(".struct_ops", map.SectionName);
        var ops = map.StructOps!;
        Assert.Equal("tcp_congestion_ops", ops.TypeName);
        Assert.False(ops.IsLink);
        Assert.Equal(ops.Size, (int)map.ValueSize);
        Assert.Equal(ops.Size, ops.Data.Length);

        var name = ops.FindMember("name")!;
        Assert.Equal(StructOpsMemberKind.Scalar, name.Kind);
        Assert.Equal("ebpf_reno", Encoding.ASCII.GetString(ops.Data.Span.Slice(name.Offset, name.Size).ToArray()).TrimEnd('\0'));
        var flags = ops.FindMember("flags")!;
        Assert.Equal(1u, BitConverter.ToUInt32(ops.Data.Span.Slice(flags.Offset, 4).ToArray(), 0));
        Assert.Equal(StructOpsMemberKind.Pointer, ops.FindMember("owner")!.Kind);

        var callbacks = ops.Members.Where(m => m.ProgramName != null).ToDictionary(m => m.Name, m => m.ProgramName);
        Assert.Equal(8, callbacks.Count);
        Assert.Equal("ebpf_reno_cong_avoid", callbacks["cong_avoid"]);
        Assert.All(ops.Members.Where(m => m.Kind == StructOpsMemberKind.Function), m =>
            Assert.True(ops.Data.Span.Slice(m.Offset, 8).ToArray().All(b => b == 0), "function pointers hold no address in the data"));
        Assert.Null(ops.FindMember("cong_control")!.ProgramName);

        var prog = spec.FindProgram("ebpf_reno_cong_avoid")!;
        Assert.Equal(BpfProgramType.StructOps, prog.ProgramType);
        Assert.Equal("tcp_congestion_ops", prog.StructOps!.TypeName);
        Assert.Equal("cong_avoid", prog.StructOps.MemberName);
        Assert.Equal(ops.FindMember("cong_avoid")!.Index, prog.StructOps.MemberIndex);
        Assert.DoesNotContain(spec.Notes, n => n.Contains("struct_ops"));
    }

    [Fact]
    public void LinkSectionMapsHaveTheLinkFlagAndShareTheirPrograms()
    {
        var spec = Parse("struct_ops_tcp_link");
        var maps = spec.Maps.Where(m => m.StructOps != null).ToList();
        Assert.Equal(new[] { "ebpf_reno_link", "ebpf_reno_next" }, maps.Select(m => m.Name));
        Assert.All(maps, m =>
        {
            Assert.Equal(BpfMapFlags.Link, m.Flags);
            Assert.True(m.StructOps!.IsLink);
            Assert.Equal(".struct_ops.link", m.SectionName);
        });
        Assert.Equal(maps[0].StructOps!.FindMember("init")!.ProgramName, maps[1].StructOps!.FindMember("init")!.ProgramName);
        Assert.Equal("init", spec.FindProgram("ebpf_reno_init")!.StructOps!.MemberName);
    }

    [Fact]
    public void FlavoursOptionalMapsAndUnknownStructs()
    {
        var spec = Parse("struct_ops_edge");
        var future = spec.FindMap("future_reno")!.StructOps!;
        Assert.Equal("tcp_congestion_ops", future.TypeName); // ___future is dropped
        Assert.Equal(StructOpsMemberKind.Scalar, future.FindMember("future_knob")!.Kind);
        Assert.Null(future.FindMember("reserved_cb")!.ProgramName);
        var noSuch = spec.FindMap("no_such")!;
        Assert.False(noSuch.Autocreate); // SEC("?.struct_ops")
        Assert.Equal(".struct_ops", noSuch.SectionName);
        Assert.Equal("ebpf_no_such_ops", noSuch.StructOps!.TypeName);
        Assert.Equal(3, BitConverter.ToInt32(noSuch.StructOps.Data.Span.Slice(noSuch.StructOps.FindMember("level")!.Offset, 4).ToArray(), 0));
        Assert.Equal("run", spec.FindProgram("no_such_run")!.StructOps!.MemberName);
    }

    [Theory]
    [InlineData("bpf_cubic", "cubic", "tcp_congestion_ops", 7)]
    [InlineData("bpf_dctcp", "dctcp", "tcp_congestion_ops", 7)]
    [InlineData("dummy_st_ops", "dummy_1", "bpf_dummy_ops", 2)]
    [InlineData("tcp_ca_incompl_cong_ops", "incompl_cong_ops", "tcp_congestion_ops", 2)]
    [InlineData("tcp_ca_write_sk_pacing", "write_sk_pacing", "tcp_congestion_ops", 4)]
    public void KernelSelftestObjects(string file, string map, string type, int callbacks)
    {
        var spec = Parse("selftests/" + file);
        var ops = spec.FindMap(map)!.StructOps!;
        Assert.Equal(type, ops.TypeName);
        Assert.Equal(callbacks, ops.Members.Count(m => m.ProgramName != null));
        Assert.All(spec.Programs, p => Assert.NotNull(p.StructOps));
    }

    [Theory]
    [InlineData(".struct_ops", true)]
    [InlineData(".struct_ops.link", true)]
    [InlineData("?.struct_ops", true)]
    [InlineData("?.struct_ops.link", true)]
    [InlineData(".struct_ops.custom", true)]
    [InlineData(".struct_opsx", false)]
    [InlineData("struct_ops", false)]
    public void StructOpsSectionNames(string section, bool expected) =>
        Assert.Equal(expected, BpfObjectSpec.IsStructOpsSection(section));
}
