using System;
using System.IO;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Elf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

public class BtfSanitizerTests
{
    private static BtfSpec AllKinds() => BtfSpec.Parse(SyntheticBtf.AllKinds());

    private static string Raw(BtfSpec spec) => BtfTestData.Dump(w => BtfRawDump.WriteRaw(spec, w));

    [Fact]
    public void NothingChangesForACurrentKernel()
    {
        var spec = AllKinds();
        Assert.False(BtfSanitizer.NeedsSanitizing(spec, BtfFeatures.All));
        var again = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, BtfFeatures.All));
        Assert.Equal(Raw(spec), Raw(again));
        Assert.True(spec.OwnStrings.SequenceEqual(again.OwnStrings));
    }

    [Fact]
    public void EveryUnsupportedKindIsReplacedInPlaceKeepingIdsAndStringOffsets()
    {
        var spec = AllKinds();
        Assert.True(BtfSanitizer.NeedsSanitizing(spec, BtfFeatures.None));
        var s = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, BtfFeatures.None));

        // One extra type: the enum64 placeholder, appended after the last one.
        Assert.Equal(spec.TypeCount + 1, s.TypeCount);
        int placeholder = spec.TypeCount;
        Assert.Equal("[38] INT 'enum64_placeholder' size=1 bits_offset=0 nr_bits=8 encoding=(none)", BtfRawDump.FormatType(s, placeholder));

        // Types that every BTF-capable kernel knows are untouched, names at the same string offsets.
        for (int id = 1; id < spec.TypeCount; id++)
        {
            var k = spec.GetKind(id);
            if (k is BtfKind.Int or BtfKind.Ptr or BtfKind.Array or BtfKind.Struct or BtfKind.Union or BtfKind.Fwd
                or BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict)
                Assert.Equal(BtfRawDump.FormatType(spec, id), BtfRawDump.FormatType(s, id));
        }
        Assert.Equal(spec.GetNameOffset(11), s.GetNameOffset(11));

        // VAR and DECL_TAG → 1-byte INT with the same name.
        Assert.Equal("[28] INT 'counter' size=1 bits_offset=0 nr_bits=8 encoding=(none)", BtfRawDump.FormatType(s, 28));
        Assert.Equal("[34] INT 'bpf_kfunc' size=1 bits_offset=0 nr_bits=8 encoding=(none)", BtfRawDump.FormatType(s, 34));
        // DATASEC → STRUCT with a member per variable, dots replaced in the name (in place: same offset).
        Assert.Equal("[31] STRUCT '_bss' size=8 vlen=2\n\t'counter' type_id=28 bits_offset=0\n\t'local' type_id=29 bits_offset=32", BtfRawDump.FormatType(s, 31));
        Assert.Equal(spec.GetNameOffset(31), s.GetNameOffset(31));
        Assert.Equal("[32] STRUCT '_kconfig' size=4 vlen=1\n\t'CONFIG_HZ' type_id=30 bits_offset=0", BtfRawDump.FormatType(s, 32));
        Assert.Equal("[37] STRUCT '_ksyms' size=0 vlen=1\n\t'helper' type_id=23 bits_offset=0", BtfRawDump.FormatType(s, 37));
        // FUNC_PROTO → 4-byte ENUM (parameters become enumerators), FUNC → TYPEDEF.
        Assert.Equal("[21] ENUM '(anon)' encoding=UNSIGNED size=4 vlen=2\n\t'ctx' val=6\n\t'n' val=2", BtfRawDump.FormatType(s, 21));
        Assert.Equal("[22] TYPEDEF 'prog' type_id=21", BtfRawDump.FormatType(s, 22));
        Assert.Equal("[24] TYPEDEF 'ext' type_id=21", BtfRawDump.FormatType(s, 24));
        // FLOAT → anonymous empty STRUCT of the same size; TYPE_TAG → CONST.
        Assert.Equal("[33] STRUCT '(anon)' size=8 vlen=0", BtfRawDump.FormatType(s, 33));
        Assert.Equal("[36] CONST '(anon)' type_id=1", BtfRawDump.FormatType(s, 36));
        // Signed ENUM → unsigned; ENUM64 → UNION of placeholders.
        Assert.Equal("[14] ENUM 'sval' encoding=UNSIGNED size=4 vlen=3\n\t'NEG' val=4294967295\n\t'POS' val=7\n\t'MIN' val=2147483648", BtfRawDump.FormatType(s, 14));
        Assert.Equal("[17] UNION 'sbig' size=8 vlen=2\n\t'NEG' type_id=38 bits_offset=0\n\t'MIN' type_id=38 bits_offset=0", BtfRawDump.FormatType(s, 17));

        // The result is something a pre-5.0 kernel would take: only the original kinds remain.
        for (int id = 1; id < s.TypeCount; id++)
            Assert.True(s.GetKind(id) <= BtfKind.Restrict, $"[{id}] is still {s.GetKind(id)}");
        Assert.False(BtfSanitizer.NeedsSanitizing(s, BtfFeatures.None));
    }

    [Fact]
    public void WithoutGlobalFuncLinkageOnlyFuncLinkageChanges()
    {
        var spec = AllKinds();
        var features = BtfFeatures.All & ~BtfFeatures.FuncGlobalLinkage;
        Assert.True(BtfSanitizer.NeedsSanitizing(spec, features));
        var s = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, features));
        Assert.Equal(spec.TypeCount, s.TypeCount);
        var before = Raw(spec).Split('\n');
        var after = Raw(s).Split('\n');
        var changed = before.Zip(after, (a, b) => (a, b)).Where(p => p.a != p.b).ToArray();
        Assert.Equal(new[]
        {
            ("[22] FUNC 'prog' type_id=21 linkage=global", "[22] FUNC 'prog' type_id=21 linkage=static"),
            ("[24] FUNC 'ext' type_id=21 linkage=extern", "[24] FUNC 'ext' type_id=21 linkage=static"),
            ("[26] FUNC 'printk' type_id=25 linkage=extern", "[26] FUNC 'printk' type_id=25 linkage=static"),
        }, changed);
    }

    [Fact]
    public void KernelWithDatasecButWithoutEnum64KeepsVarsAndRewritesEnums()
    {
        var spec = AllKinds();
        var features = BtfFeatures.Func | BtfFeatures.FuncGlobalLinkage | BtfFeatures.Datasec | BtfFeatures.Float | BtfFeatures.DeclTag | BtfFeatures.TypeTag;
        var s = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, features));
        Assert.Equal(BtfKind.Var, s.GetKind(28));
        Assert.Equal(BtfKind.Datasec, s.GetKind(31));
        Assert.Equal(BtfKind.Union, s.GetKind(16));
        Assert.False(s.GetKindFlag(14));
        Assert.Equal(BtfKind.TypeTag, s.GetKind(36));
    }

    [Fact]
    public void QuestionMarkDatasecNamesAreRenamedWhenUnsupported()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int v = b.AddVar("opt", i32);
        b.AddDatasec("?.data.opt", 4, (v, 0u, 4u));
        var spec = BtfSpec.Parse(b.Build());
        var noQmark = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, BtfFeatures.All & ~BtfFeatures.QmarkDatasec));
        Assert.Equal("_.data.opt", noQmark.GetName(3));
        Assert.Equal(BtfKind.Datasec, noQmark.GetKind(3));
        var noDatasec = BtfSpec.Parse(BtfSanitizer.Sanitize(spec, BtfFeatures.All & ~BtfFeatures.Datasec));
        Assert.Equal("__data_opt", noDatasec.GetName(3));
        Assert.Equal(BtfKind.Struct, noDatasec.GetKind(3));
        Assert.False(BtfSanitizer.NeedsSanitizing(spec, BtfFeatures.All));
    }

    [Fact]
    public void SplitBtfIsSanitizedOnTopOfItsBase()
    {
        var baseSpec = AllKinds();
        var b = new BtfBuilder(baseSpec);
        int v = b.AddVar("mod_var", 1);
        b.AddDatasec(".data..percpu", 4, (v, 0u, 4u));
        b.AddFloat("float", 4);
        var split = BtfSpec.Parse(b.Build(), baseSpec);
        var s = BtfSpec.Parse(BtfSanitizer.Sanitize(split, BtfFeatures.None), baseSpec);
        Assert.Equal(split.TypeCount, s.TypeCount);
        Assert.Equal("[39] STRUCT '_data__percpu' size=4 vlen=1\n\t'mod_var' type_id=38 bits_offset=0", BtfRawDump.FormatType(s, 39));
        Assert.Equal("[40] STRUCT '(anon)' size=4 vlen=0", BtfRawDump.FormatType(s, 40));
    }

    // ------------------------------------------------------------------ DATASEC fix-ups

    private static BtfSpec CompilerStyleDatasecs()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u64 = b.AddInt("long long unsigned int", 8);
        int a = b.AddVar("a", i32);                                   // 3
        int st = b.AddVar("st", i32, BtfVarLinkage.Static);           // 4 (static: offset already right)
        int big = b.AddVar("big", u64);                               // 5
        int hid = b.AddVar("hid", i32);                               // 6
        int ext = b.AddVar("CONFIG_X", i32, BtfVarLinkage.GlobalExtern); // 7
        b.AddDatasec(".data", 0, (a, 0u, 4u), (st, 12u, 4u), (big, 0u, 8u), (hid, 0u, 4u)); // 8
        b.AddDatasec(".kconfig", 4, (ext, 0u, 4u));                   // 9
        b.AddDatasec(".bss", 8, (big, 0u, 8u));                       // 10 (already sized: left alone)
        return BtfSpec.Parse(b.Build());
    }

    [Fact]
    public void FixupFillsSizesAndOffsetsFromTheElfAndSortsByOffset()
    {
        var spec = CompilerStyleDatasecs();
        var offsets = new System.Collections.Generic.Dictionary<string, uint> { ["a"] = 16, ["big"] = 0, ["hid"] = 8 };
        var fixedUp = BtfSpec.Parse(BtfSanitizer.FixupDatasecs(spec,
            sec => sec == ".data" ? 24u : null,
            v => offsets.TryGetValue(v, out var o) ? o : null,
            v => v == "hid"));
        Assert.Equal(
            "[8] DATASEC '.data' size=24 vlen=4\n" +
            "\ttype_id=5 offset=0 size=8 (VAR 'big')\n" +
            "\ttype_id=6 offset=8 size=4 (VAR 'hid')\n" +
            "\ttype_id=4 offset=12 size=4 (VAR 'st')\n" +
            "\ttype_id=3 offset=16 size=4 (VAR 'a')", BtfRawDump.FormatType(fixedUp, 8));
        Assert.Equal("[6] VAR 'hid' type_id=1, linkage=static", BtfRawDump.FormatType(fixedUp, 6));
        Assert.Equal("[3] VAR 'a' type_id=1, linkage=global", BtfRawDump.FormatType(fixedUp, 3));
        Assert.Equal(BtfRawDump.FormatType(spec, 9), BtfRawDump.FormatType(fixedUp, 9));
        Assert.Equal(BtfRawDump.FormatType(spec, 10), BtfRawDump.FormatType(fixedUp, 10));
        Assert.True(spec.OwnStrings.SequenceEqual(fixedUp.OwnStrings));
    }

    [Fact]
    public void FixupFailsClearlyWithoutSectionOrSymbol()
    {
        var spec = CompilerStyleDatasecs();
        var e1 = Assert.Throws<BpfObjectFormatException>(() => BtfSanitizer.FixupDatasecs(spec, _ => null, _ => 0));
        Assert.Contains("'.data'", e1.Message);
        var e2 = Assert.Throws<BpfObjectFormatException>(() => BtfSanitizer.FixupDatasecs(spec, _ => 24, v => v == "a" ? 0u : null));
        Assert.Contains("'big'", e2.Message);
    }

    public static TheoryData<string> BpfObjects => BtfTestData.WithSentinel(BtfTestData.BpfObjectsWithBtf());

    [Theory]
    [MemberData(nameof(BpfObjects))]
    public void FixupOfRealObjectsMatchesTheirElfSectionsAndSymbols(string relativePath)
    {
        if (relativePath == BtfTestData.None)
            Assert.Skip("no BPF object with .BTF under bpf/ yet");
        var bytes = File.ReadAllBytes(BtfTestData.Resolve(relativePath));
        var elf = ElfFile.Parse(bytes);
        var spec = BtfSource.Parse(bytes);
        uint? SectionSize(string name) => elf.FindSection(name) is { } s ? (uint)s.Size : null;
        uint? SymbolValue(string name)
        {
            foreach (var sym in elf.Symbols)
                if (sym.Name == name && sym.Type == ElfSymbolType.Object && !sym.IsUndefined) return (uint)sym.Value;
            return null;
        }
        var fixedUp = BtfSpec.Parse(BtfSanitizer.FixupDatasecs(spec, SectionSize, SymbolValue));
        for (int id = 1; id < fixedUp.TypeCount; id++)
        {
            if (fixedUp[id] is not BtfDatasec ds) continue;
            if (ds.Name is ".kconfig" or ".ksyms") continue;
            Assert.Equal(SectionSize(ds.Name) ?? 0, (uint)ds.Size);
            uint last = 0;
            foreach (var v in ds.Variables)
            {
                var var = (BtfVar)fixedUp[v.TypeId];
                if (var.Linkage == BtfVarLinkage.GlobalAllocated)
                    Assert.Equal(SymbolValue(var.Name), v.Offset);
                Assert.True(v.Offset >= last, $"{ds.Name}: variables not sorted by offset");
                Assert.True(v.Offset + v.Size <= (uint)ds.Size, $"{ds.Name}: {var.Name} at {v.Offset}+{v.Size} beyond {ds.Size}");
                last = v.Offset;
            }
        }
    }
}
