using System;
using System.Linq;
using Ebpf.Btf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

public class BtfLayoutTests
{
    /// <summary>
    /// A small task_struct: pid, an anonymous union, a bitfield run, comm at <paramref name="commOffset"/>
    /// and, in the "new" variant, an extra field before comm plus a wider flags.
    /// </summary>
    private static BtfSpec Task(uint commOffset, bool newer)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int u64 = b.AddInt("long long unsigned int", 8);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int idx = b.AddInt("__ARRAY_SIZE_TYPE__", 4);
        int comm = b.AddArray(chr, idx, 16);
        int anonStruct = b.AddStruct("", 8, new BtfBuilder.Member("tgid", i32, 0), new BtfBuilder.Member("ppid", i32, 32));
        int anonUnion = b.AddUnion("", 8, new BtfBuilder.Member("", anonStruct, 0), new BtfBuilder.Member("both", u64, 0));
        var members = new System.Collections.Generic.List<BtfBuilder.Member>
        {
            new BtfBuilder.Member("pid", i32, 0),
            new BtfBuilder.Member("", anonUnion, 64),
            new BtfBuilder.Member("flags", newer ? u64 : u32, 128),
            new BtfBuilder.Member("in_execve", u32, 256, 1),
            new BtfBuilder.Member("in_iowait", u32, newer ? 258u : 257u, 1),
        };
        if (newer)
            members.Add(new BtfBuilder.Member("extra", u32, (commOffset - 4) * 8));
        else
            members.Add(new BtfBuilder.Member("gone", u32, 0x100 * 8));
        members.Add(new BtfBuilder.Member("comm", comm, commOffset * 8));
        b.AddComposite(BtfKind.Struct, "task_struct", (int)(commOffset + 16 + 8), members, null);
        b.AddStruct("unchanged", 4, new BtfBuilder.Member("x", i32, 0));
        b.AddStruct(newer ? "only_new" : "only_old", 4, new BtfBuilder.Member("x", i32, 0));
        return BtfSpec.Parse(b.Build());
    }

    [Fact]
    public void DiffReportsCommMovedFrom0x620To0x624()
    {
        var diff = BtfLayout.Diff(Task(0x620, newer: false), Task(0x624, newer: true), new[] { "task_struct" });
        var t = Assert.Single(diff.Types);
        Assert.Equal("task_struct", t.Name);
        Assert.True(t.SizeChanged);
        var comm = t.FindChange("comm");
        Assert.NotNull(comm);
        Assert.Equal(BtfMemberChanges.Moved, comm!.Changes);
        Assert.Equal(0x620, comm.Old!.Offset);
        Assert.Equal(0x624, comm.New!.Offset);
        Assert.Equal("comm moved from 0x620 to 0x624 (+4)", comm.Describe());
        Assert.Contains("    comm moved from 0x620 to 0x624 (+4)\n", diff.ToString());
    }

    [Fact]
    public void DiffReportsAddedRemovedResizedRetypedAndBitfieldMoves()
    {
        var diff = BtfLayout.Diff(Task(0x620, newer: false), Task(0x624, newer: true), new[] { "struct task_struct".Substring(7) });
        var t = diff.Find("task_struct")!;
        var flags = t.FindChange("flags")!;
        Assert.Equal(BtfMemberChanges.Resized | BtfMemberChanges.TypeChanged, flags.Changes);
        Assert.Equal("flags size 4 -> 8, type unsigned int -> long long unsigned int", flags.Describe());
        var iowait = t.FindChange("in_iowait")!;
        Assert.Equal(BtfMemberChanges.Moved, iowait.Changes);
        Assert.Equal("in_iowait moved from 0x20 bit 1 to 0x20 bit 2 (+1 bits)", iowait.Describe());
        Assert.Equal(BtfMemberChanges.Added, t.FindChange("extra")!.Changes);
        Assert.StartsWith("+ extra added at 0x620 (1568), size 4: unsigned int extra", t.FindChange("extra")!.Describe());
        Assert.Equal(BtfMemberChanges.Removed, t.FindChange("gone")!.Changes);
        Assert.StartsWith("- gone removed (was at 0x100 (256), size 4", t.FindChange("gone")!.Describe());
        // Members of anonymous unions/structs are compared by their C access path, and did not move.
        Assert.Null(t.FindChange("tgid"));
        Assert.Null(t.FindChange("both"));
        Assert.Null(t.FindChange("pid"));
        Assert.Null(t.FindChange("in_execve"));
    }

    [Fact]
    public void DiffOfAllTypesComparesOnlyCommonOnesAndListsOnlyChangedOnes()
    {
        var diff = BtfLayout.Diff(Task(0x620, false), Task(0x624, true), null);
        Assert.Equal(2, diff.ComparedCount); // task_struct, unchanged (only_old/only_new are not common)
        var t = Assert.Single(diff.Types);
        Assert.Equal("task_struct", t.Name);
        Assert.True(diff.HasDifferences);
        var same = BtfLayout.Diff(Task(0x620, false), Task(0x620, false), Array.Empty<string>());
        Assert.False(same.HasDifferences);
        Assert.Empty(same.Types);
        Assert.Equal("3 compared, 0 with differences\n", same.ToString());
    }

    [Fact]
    public void DiffWithNamesReportsMissingTypes()
    {
        var diff = BtfLayout.Diff(Task(0x620, false), Task(0x624, true), new[] { "only_old", "nowhere", "unchanged" });
        Assert.Null(diff.Find("only_old")!.B);
        Assert.NotNull(diff.Find("only_old")!.A);
        Assert.False(diff.Find("unchanged")!.HasDifferences);
        string text = diff.ToString();
        Assert.Contains("struct only_old: only in A\n", text);
        Assert.Contains("nowhere: no struct or union of that name in either A or B\n", text);
        Assert.Contains("struct unchanged: no layout changes (size 4)\n", text);
    }

    [Fact]
    public void LayoutListsMembersWithOffsetsHolesPaddingAndFlattenedAnonymousMembers()
    {
        var spec = Task(0x620, false);
        var layout = BtfLayout.Find(spec, "task_struct")!;
        Assert.Equal(BtfKind.Struct, layout.Kind);
        Assert.Equal(0x620 + 24, layout.Size);
        Assert.Equal(
            new[] { "pid", "", "", "tgid", "ppid", "both", "flags", "in_execve", "in_iowait", "gone", "comm" },
            layout.Members.Select(m => m.Path));
        Assert.Equal(new[] { 0, 0, 1, 2, 2, 1, 0, 0, 0, 0, 0 }, layout.Members.Select(m => m.Depth));
        var tgid = layout.FindMember("ppid")!;
        Assert.Equal(12, tgid.Offset);
        var iowait = layout.FindMember("in_iowait")!;
        Assert.True(iowait.IsBitfield);
        Assert.Equal(0x20, iowait.Offset);
        Assert.Equal(1, iowait.BitInByte);
        Assert.Equal(4, iowait.Size);
        // Holes: 4 bytes after pid; after flags (4 bytes, then the bitfields start at 0x20);
        // 30 bits after the bitfields... up to "gone" at 0x100; then up to comm at 0x620; 8 bytes padding.
        var holes = layout.Holes.Where(h => !h.IsTrailingPadding).Select(h => (h.BitOffset / 8, h.BitSize)).ToArray();
        Assert.Equal((4L, 32L), holes[0]);
        Assert.Equal((20L, 96L), holes[1]);
        Assert.Equal(0x100 * 8 - 258, holes[2].BitSize);
        Assert.Equal(8, layout.TrailingPadding);
        string text = layout.ToString();
        Assert.Contains("    union {", text);
        Assert.Contains("        struct {", text);
        Assert.Contains("            int ppid;", text);
        Assert.Contains("    unsigned int in_iowait: 1;", text);
        Assert.Contains("/*    0x20:1     32:1      4 */", text);
        Assert.Contains("char comm[16];", text);
        Assert.Contains("/*   0x620     1568       16 */", text);
        Assert.Contains("    /* XXX 4 bytes hole */\n", text);
        Assert.Contains("    /* XXX 8 bytes padding */\n", text);
        Assert.EndsWith("};  /* size: 1592 (0x638), align: 8, members: 7, holes: 4 (1547 bytes 6 bits), padding: 8 */\n", text);
    }

    [Fact]
    public void LayoutOfUnionAndTypedefAndErrors()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u = b.AddUnion("val", 8, new BtfBuilder.Member("i", i32, 0), new BtfBuilder.Member("l", b.AddInt("long", 8, BtfIntEncoding.Signed), 0));
        b.AddTypedef("val_t", u);
        var spec = BtfSpec.Parse(b.Build());
        var viaTypedef = BtfLayout.Find(spec, "val_t")!;
        Assert.Equal(BtfKind.Union, viaTypedef.Kind);
        Assert.Empty(viaTypedef.Holes); // unions have no holes
        Assert.Null(BtfLayout.Find(spec, "nope"));
        Assert.Throws<ArgumentException>(() => BtfLayout.Of(spec, i32));
    }

    [Fact]
    public void KernelArchivesDiffRuns()
    {
        var archives = BtfTestData.KernelBtfArchives().ToList();
        if (archives.Count < 2)
            Assert.Skip("needs two tests/data/btf/*.btf.gz");
        var a = BtfTestData.ParseFile(BtfTestData.Resolve(archives[0]));
        var b = BtfTestData.ParseFile(BtfTestData.Resolve(archives[1]));
        var diff = BtfLayout.Diff(a, b, new[] { "task_struct" });
        Assert.True(diff.Find("task_struct")!.HasDifferences);
        var all = BtfLayout.Diff(a, b, null);
        Assert.True(all.ComparedCount > 1000, $"compared {all.ComparedCount}");
        Assert.True(all.Types.Count > 100);
    }
}

public class BtfMalformedInputTests
{
    /// <summary>Reference cycles that parse (every id is in range) but cannot be C: all fail with a BTF error, never a crash.</summary>
    public static TheoryData<string> Cycles => new TheoryData<string> { "typedef", "pointer-const", "struct-self", "anon-self", "proto-self" };

    private static BtfSpec Cycle(string what)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        switch (what)
        {
            case "typedef":
                b.AddTypedef("a", 3);
                b.AddTypedef("b", 2);
                b.AddStruct("user", 4, new BtfBuilder.Member("x", 2, 0));
                break;
            case "pointer-const":
                b.AddConst(3);
                b.AddVolatile(2);
                b.AddStruct("user", 8, new BtfBuilder.Member("x", 2, 0));
                break;
            case "struct-self":
                b.AddStruct("self", 8, new BtfBuilder.Member("me", 2, 0));
                break;
            case "anon-self":
                b.AddStruct("", 8, new BtfBuilder.Member("", 2, 0));
                b.AddStruct("outer", 8, new BtfBuilder.Member("", 2, 0));
                break;
            case "proto-self":
                b.AddFuncProto(i32, ("next", 3));
                b.AddPointer(2);
                b.AddStruct("user", 8, new BtfBuilder.Member("fn", 3, 0));
                break;
        }
        return BtfSpec.Parse(b.Build());
    }

    [Theory]
    [MemberData(nameof(Cycles))]
    public void CyclesFailCleanly(string what)
    {
        var spec = Cycle(what);
        // The raw listing never follows references.
        Assert.NotEmpty(BtfTestData.Dump(w => BtfRawDump.WriteRaw(spec, w)));
        Assert.ThrowsAny<BpfFormatException>(() => BtfTestData.Dump(w => BtfCDump.WriteC(spec, w)));
        foreach (var name in new[] { "user", "self", "outer" })
        {
            int id = BtfLayout.FindComposite(spec, name);
            if (id < 0) continue;
            try
            {
                var layout = BtfLayout.Of(spec, id);
                Assert.NotNull(layout.ToString());
            }
            catch (BpfFormatException)
            {
                // fine: reported as malformed BTF
            }
        }
    }
}
