using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>Initial values of map-in-map and prog-array maps (.values = { ... }).</summary>
public class MapInitialValueTests
{
    [Fact]
    public void MapInMapSlotsHoldTheInnerMaps()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Load(TestEnvironment.Bpf("map_in_map"));
        var outer = obj.GetMap("outer_array");
        var id = new byte[4];
        // Looking up a map-in-map from user space yields the inner map's id.
        Assert.True(outer.TryLookup(BitConverter.GetBytes(0), id));
        Assert.Equal(obj.GetMap("inner_a").Id, BitConverter.ToUInt32(id));
        Assert.True(outer.TryLookup(BitConverter.GetBytes(2), id));
        Assert.Equal(obj.GetMap("inner_b").Id, BitConverter.ToUInt32(id));
        Assert.False(outer.TryLookup(BitConverter.GetBytes(1), id));
        Assert.True(obj.GetMap("outer_hash").TryLookup(BitConverter.GetBytes(1), id));
        Assert.Equal(obj.GetMap("inner_b").Id, BitConverter.ToUInt32(id));
    }

    [Fact]
    public void ProgArraySlotsHoldThePrograms()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Load(TestEnvironment.Bpf("prog_array"));
        var table = obj.GetMap("jump_table");
        var id = new byte[4];
        Assert.True(table.TryLookup(BitConverter.GetBytes(0), id));
        Assert.Equal(obj.GetProgram("tail_a").Id, BitConverter.ToUInt32(id));
        Assert.True(table.TryLookup(BitConverter.GetBytes(2), id));
        Assert.Equal(obj.GetProgram("tail_b").Id, BitConverter.ToUInt32(id));
    }
}
