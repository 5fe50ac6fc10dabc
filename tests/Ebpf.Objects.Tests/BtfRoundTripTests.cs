using System.Linq;
using Ebpf.Btf;
using Xunit;

namespace Ebpf.Objects.Tests;

public class BtfRoundTripTests
{
    private static byte[] Sample(bool littleEndian = true)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed | BtfIntEncoding.Char);
        int u32 = b.AddInt("unsigned int", 4);
        int arr = b.AddArray(chr, i32, 16);
        int task = b.AddStruct("task_struct", 0x640,
            new BtfBuilder.Member("pid", i32, 0x500 * 8),
            new BtfBuilder.Member("flags", u32, 0x504 * 8, 3),
            new BtfBuilder.Member("comm", arr, 0x620 * 8));
        b.AddPointer(task);
        b.AddTypedef("pid_t", i32);
        b.AddEnum("state", 4, false, ("RUNNING", 0), ("STOPPED", 4));
        b.AddEnum64("big", 8, true, ("NEG", unchecked((ulong)-5L)));
        b.AddFuncProto(i32, ("ctx", i32));
        b.AddFunc("prog", 10, BtfFuncLinkage.Global);
        int v = b.AddVar("counter", u32, BtfVarLinkage.GlobalAllocated);
        b.AddDatasec(".bss", 4, (v, 0u, 4u));
        b.AddFloat("double", 8);
        b.AddDeclTag("tag", task, 1);
        b.AddTypeTag("user", i32);
        b.AddFwd("sock", isUnion: false);
        b.AddConst(i32);
        b.AddVolatile(i32);
        b.AddRestrict(i32);
        return b.Build(littleEndian);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BuilderOutputParsesBackToTheSameTypes(bool littleEndian)
    {
        var spec = BtfSpec.Parse(Sample(littleEndian));
        Assert.Equal(littleEndian, spec.IsLittleEndian);
        Assert.Equal(21, spec.TypeCount);
        var task = Assert.IsType<BtfStruct>(spec[spec.FindByName("task_struct", BtfKind.Struct)]);
        Assert.Equal(0x640, task.Size);
        Assert.True(task.KindFlag);
        Assert.Equal(new[] { "pid", "flags", "comm" }, task.Members.Select(m => m.Name));
        Assert.Equal(0x620u * 8, task.Members[2].BitOffset);
        Assert.Equal(3u, task.Members[1].BitfieldSize);
        var comm = Assert.IsType<BtfArray>(spec[task.Members[2].TypeId]);
        Assert.Equal(16u, comm.Count);
        Assert.Equal(16, spec.ResolveSize(comm.Id));
        var e64 = Assert.IsType<BtfEnum>(spec[spec.FindByName("big", BtfKind.Enum64)]);
        Assert.True(e64.IsSigned);
        Assert.Equal(-5L, e64.Values[0].SignedValue);
        var ds = Assert.IsType<BtfDatasec>(spec[spec.FindByName(".bss", BtfKind.Datasec)]);
        Assert.Equal("counter", spec[ds.Variables[0].TypeId].Name);
        var tag = Assert.IsType<BtfDeclTag>(spec[spec.FindByName("tag", BtfKind.DeclTag)]);
        Assert.Equal(1, tag.ComponentIndex);
        Assert.Equal(task.Id, spec.SkipModifiersAndTypedefs(spec.FindByName("task_struct", BtfKind.Struct)));
        Assert.Equal(8, spec.AlignmentOf(e64.Id));
    }

    [Fact]
    public void EssentialNamesFollowLibbpfRule()
    {
        Assert.Equal("task_struct", BtfSpec.EssentialName("task_struct___v2"));
        Assert.Equal("a___b", BtfSpec.EssentialName("a___b___c"));
        Assert.Equal("x____y", BtfSpec.EssentialName("x____y"));
        Assert.Equal("___x", BtfSpec.EssentialName("___x"));
        Assert.Equal("foo", BtfSpec.EssentialName("foo"));
    }

    [Fact]
    public void LookupFindsFlavorsByEssentialNameBeforeAndAfterIndexIsBuilt()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        b.AddStruct("task_struct", 8, new BtfBuilder.Member("a", i32, 0));
        b.AddStruct("task_struct___old", 8, new BtfBuilder.Member("b", i32, 0));
        b.AddStruct("task_structx", 8);
        var spec = BtfSpec.Parse(b.Build());
        for (int round = 0; round < 20; round++)
        {
            var list = new System.Collections.Generic.List<int>();
            spec.FindByEssentialName(System.Text.Encoding.UTF8.GetBytes("task_struct"), list);
            Assert.Equal(new[] { 2, 3 }, list);
            Assert.Equal(new[] { 3 }, spec.FindByName("task_struct___old"));
            Assert.Empty(spec.FindByName("task"));
        }
    }
}
