using System;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;

namespace Ebpf.Objects.Tests.Core;

/// <summary>Access-string parsing (bpf_core_parse_spec) and spec formatting (bpf_core_format_spec).</summary>
public class CoreSpecTests
{
    // struct inner { int a; long b; };
    // struct sample {
    //     int x;                       // 0
    //     union { int u1; long u2; };  // 8 (anonymous)
    //     struct inner in;             // 16
    //     struct inner arr[4];         // 32
    //     unsigned int bits:3;         // 96.5 (bit 773)
    //     char flex[];                 // 100
    // };
    // typedef struct sample sample_t; enum e { A, B = -2 }; enum64 e64 { BIG = 1 << 40 };
    internal static BtfSpec Sample(out int sample, out int typedefId, out int enumId, out int enum64Id, out int intId)
    {
        var b = new BtfBuilder();
        intId = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int lng = b.AddInt("long", 8, BtfIntEncoding.Signed);
        int uint32 = b.AddInt("unsigned int", 4);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int inner = b.AddStruct("inner", 16, new BtfBuilder.Member("a", intId, 0), new BtfBuilder.Member("b", lng, 64));
        int anon = b.AddUnion("", 8, new BtfBuilder.Member("u1", intId, 0), new BtfBuilder.Member("u2", lng, 0));
        int arr = b.AddArray(inner, intId, 4);
        int flex = b.AddArray(chr, intId, 0);
        sample = b.AddStruct("sample", 104,
            new BtfBuilder.Member("x", intId, 0),
            new BtfBuilder.Member("", anon, 64),
            new BtfBuilder.Member("in", inner, 128),
            new BtfBuilder.Member("arr", arr, 256),
            new BtfBuilder.Member("bits", uint32, 773, 3),
            new BtfBuilder.Member("flex", flex, 800));
        typedefId = b.AddTypedef("sample_t", b.AddConst(sample));
        enumId = b.AddEnum("e", 4, true, ("A", 0), ("B", -2));
        enum64Id = b.AddEnum64("e64", 8, false, ("BIG", 1UL << 40));
        return BtfSpec.Parse(b.Build());
    }

    [Fact]
    public void ParsesNamedMembersArraysAndAnonymousMembers()
    {
        var btf = Sample(out int sample, out _, out _, out _, out _);
        var spec = CoreSpec.Parse(btf, sample, "0:3:2:1", CoreReloKind.FieldByteOffset);
        Assert.Equal(new[] { 0, 3, 2, 1 }, spec.RawSpec);
        Assert.Equal(4, spec.Accessors.Count);
        Assert.Equal(new CoreAccessor(sample, 0, null), spec.Accessors[0]);
        Assert.Equal(new CoreAccessor(sample, 3, "arr"), spec.Accessors[1]);
        Assert.Null(spec.Accessors[2].Name);
        Assert.Equal(2, spec.Accessors[2].Index);
        Assert.Equal("b", spec.Accessors[3].Name);
        Assert.Equal((32u + 2 * 16 + 8) * 8, spec.BitOffset);
        Assert.Equal($"<byte_off> [{sample}] struct sample.arr[2].b (0:3:2:1 @ offset 72)", spec.ToString());
        Assert.Equal("sample.arr[2].b", spec.FieldPath);

        // The anonymous union contributes to the raw spec and the offset, not to the accessors.
        var anon = CoreSpec.Parse(btf, sample, "0:1:1", CoreReloKind.FieldByteSize);
        Assert.Equal(2, anon.Accessors.Count);
        Assert.Equal("u2", anon.Accessors[1].Name);
        Assert.Equal(64u, anon.BitOffset);
        Assert.Equal("sample.u2", anon.FieldPath);
    }

    [Fact]
    public void RootIndexIsAnArrayAccessThroughThePointer()
    {
        var btf = Sample(out int sample, out int td, out _, out _, out _);
        var spec = CoreSpec.Parse(btf, td, "2:0", CoreReloKind.FieldByteOffset);
        Assert.Equal(2u * 104 * 8, spec.BitOffset);
        // The root accessor holds the type with typedefs/modifiers skipped; the spec keeps the relocation's type.
        Assert.Equal(sample, spec.Accessors[0].TypeId);
        Assert.Equal(td, spec.RootTypeId);
        Assert.Equal($"<byte_off> [{td}] typedef sample_t[2].x (2:0 @ offset 208)", spec.ToString());
    }

    [Fact]
    public void BitfieldOffsetsPrintWithTheBitRemainder()
    {
        var btf = Sample(out int sample, out _, out _, out _, out _);
        var spec = CoreSpec.Parse(btf, sample, "0:4", CoreReloKind.FieldLShiftU64);
        Assert.Equal(773u, spec.BitOffset);
        Assert.EndsWith("(0:4 @ offset 96.5)", spec.ToString());
    }

    [Fact]
    public void FlexibleArrayIndexIsNotBounded()
    {
        var btf = Sample(out int sample, out _, out _, out _, out _);
        var spec = CoreSpec.Parse(btf, sample, "0:5:1000", CoreReloKind.FieldByteOffset);
        Assert.Equal((100u + 1000) * 8, spec.BitOffset);
        // A fixed-size array is.
        var e = Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, sample, "0:3:4", CoreReloKind.FieldByteOffset));
        Assert.Equal(CoreErrorKind.InvalidAccessString, e.Kind);
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("array index 4", e.Message);
        Assert.StartsWith($"parsing [{sample}] struct sample + 0:3:4 failed: ", e.Message);
    }

    [Fact]
    public void EnumeratorSpecsRecordTheEnumeratorName()
    {
        var btf = Sample(out _, out _, out int e, out int e64, out _);
        var spec = CoreSpec.Parse(btf, e, "1", CoreReloKind.EnumValueValue);
        Assert.Equal("B", spec.EnumeratorName);
        Assert.Equal($"<enumval_value> [{e}] enum e::B = -2", spec.ToString());
        var spec64 = CoreSpec.Parse(btf, e64, "0", CoreReloKind.EnumValueExists);
        Assert.Equal($"<enumval_exists> [{e64}] enum64 e64::BIG = 1099511627776", spec64.ToString());
        Assert.Equal("e64::BIG", spec64.FieldPath);
    }

    [Fact]
    public void TypeSpecsHaveNoAccessors()
    {
        var btf = Sample(out int sample, out int td, out _, out _, out _);
        var spec = CoreSpec.Parse(btf, td, "0", CoreReloKind.TypeSize);
        Assert.Empty(spec.Accessors);
        Assert.Empty(spec.RawSpec);
        Assert.Equal($"<type_size> [{td}] typedef sample_t", spec.ToString());
        Assert.Equal($"<local_type_id> [{sample}] struct sample", CoreSpec.Parse(btf, sample, "0", CoreReloKind.TypeIdLocal).ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(":0", "starts with ':'")]
    [InlineData("0:", "expected a number")]
    [InlineData("0::1", "expected a number")]
    [InlineData("a", "expected a number")]
    [InlineData("0:x", "expected a number")]
    [InlineData("0x1", "expected a number")]
    [InlineData("0:-1", "negative index")]
    [InlineData("-1:0", "negative index")]
    [InlineData("0:99999999999", "too large")]
    [InlineData("0:6", "member index 6")]
    [InlineData("0:0:1", "unexpected kind int")]
    [InlineData("0:2:0:0", "unexpected kind int")]
    public void GarbageAccessStringsAreRejected(string access, string why)
    {
        var btf = Sample(out int sample, out _, out _, out _, out _);
        var e = Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, sample, access, CoreReloKind.FieldByteOffset));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains(why, e.Message);
        Assert.False(CoreSpec.TryParse(btf, sample, access, CoreReloKind.FieldByteOffset, out var spec, out var error));
        Assert.Null(spec);
        Assert.Equal(e.Message, error);
    }

    [Fact]
    public void BlanksAndSignsAreAcceptedLikeScanf()
    {
        // libbpf parses each index with sscanf("%d"): leading blanks and '+' are accepted, so is a blank separator.
        var btf = Sample(out int sample, out _, out _, out _, out _);
        Assert.Equal(new[] { 0, 2, 1 }, CoreSpec.Parse(btf, sample, " 0:+2 1", CoreReloKind.FieldByteOffset).RawSpec);
    }

    [Fact]
    public void KindSpecificRulesAreEnforced()
    {
        var btf = Sample(out int sample, out _, out int e, out _, out int i32);
        Assert.Contains("access string \"0\"", Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, sample, "0:1", CoreReloKind.TypeExists)).Message);
        Assert.Contains("needs an enum", Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, sample, "0", CoreReloKind.EnumValueExists)).Message);
        Assert.Contains("single enumerator", Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, e, "0:1", CoreReloKind.EnumValueValue)).Message);
        Assert.Contains("out of range", Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, e, "2", CoreReloKind.EnumValueValue)).Message);
        // Field access on void has no size.
        Assert.Equal(CoreErrorKind.InvalidType, Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, 0, "0:0", CoreReloKind.FieldByteOffset)).Kind);
        Assert.Equal(CoreErrorKind.InvalidType, Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, 999, "0", CoreReloKind.TypeExists)).Kind);
        // A plain int root is fine for "0" but cannot be walked into.
        Assert.Single(CoreSpec.Parse(btf, i32, "0", CoreReloKind.FieldByteSize).Accessors);
    }

    [Fact]
    public void MoreThan64AccessorsIsTooDeep()
    {
        var btf = Sample(out int sample, out _, out _, out _, out _);
        string access = string.Join(":", Enumerable.Repeat("0", 65));
        var e = Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, sample, access, CoreReloKind.FieldByteOffset));
        Assert.Equal(CoreErrorKind.AccessTooDeep, e.Kind);
        Assert.Equal(Errno.E2BIG, e.Errno);
    }

    [Fact]
    public void TypedefCyclesAreErrorsNotHangs()
    {
        var b = new BtfBuilder();
        int a = b.AddTypedef("a", 2); // -> b
        b.AddTypedef("b", a);          // -> a
        var btf = BtfSpec.Parse(b.Build());
        var e = Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, a, "0:0", CoreReloKind.FieldByteOffset));
        Assert.Equal(CoreErrorKind.InvalidType, e.Kind);
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void ArrayCyclesAreErrorsNotHangs()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int arr = b.AddArray(2, i32, 2); // id 2: an array of itself
        Assert.Equal(2, arr);
        int s = b.AddStruct("s", 8, new BtfBuilder.Member("a", arr, 0));
        var btf = BtfSpec.Parse(b.Build());
        var e = Assert.Throws<BpfCoreRelocationException>(() => CoreSpec.Parse(btf, s, "0:0:1", CoreReloKind.FieldByteSize));
        Assert.Equal(CoreErrorKind.InvalidType, e.Kind);
    }
}
