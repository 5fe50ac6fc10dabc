using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;
using static Ebpf.Objects.Tests.Core.CoreTestUtil;

namespace Ebpf.Objects.Tests.Core;

/// <summary>Field relocations (byte_off, byte_sz, field_exists, signed, lshift_u64, rshift_u64) on synthetic BTF.</summary>
public class CoreFieldTests
{
    private const CoreReloKind Off = CoreReloKind.FieldByteOffset;
    private const CoreReloKind Size = CoreReloKind.FieldByteSize;
    private const CoreReloKind Exists = CoreReloKind.FieldExists;
    private const CoreReloKind Signed = CoreReloKind.FieldSigned;
    private const CoreReloKind LShift = CoreReloKind.FieldLShiftU64;
    private const CoreReloKind RShift = CoreReloKind.FieldRShiftU64;

    // Local (the program's flavour):
    // struct task_struct___old {
    //     int pid;                 //  0
    //     unsigned int flags;      //  4
    //     long prio;               //  8
    //     unsigned int b1:3;       // 16.0
    //     unsigned int b2:5;       // 16.3
    //     unsigned int b3:8;       // 17.0
    //     u64 big:40;              // 24.0
    //     char comm[16];           // 32
    //     enum se e;               // 48   (signed enum)
    //     int missing;             // 52
    //     struct { int deep; };    // 56   (anonymous)
    // };
    private static BtfSpec Local(out int task)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int lng = b.AddInt("long", 8, BtfIntEncoding.Signed);
        int u64 = b.AddInt("unsigned long", 8);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int comm = b.AddArray(chr, i32, 16);
        int se = b.AddEnum("se", 4, true, ("NEG", -1), ("POS", 1));
        int anon = b.AddStruct("", 4, new BtfBuilder.Member("deep", i32, 0));
        task = b.AddStruct("task_struct___old", 64,
            new BtfBuilder.Member("pid", i32, 0),
            new BtfBuilder.Member("flags", u32, 32),
            new BtfBuilder.Member("prio", lng, 64),
            new BtfBuilder.Member("b1", u32, 128, 3),
            new BtfBuilder.Member("b2", u32, 131, 5),
            new BtfBuilder.Member("b3", u32, 136, 8),
            new BtfBuilder.Member("big", u64, 192, 40),
            new BtfBuilder.Member("comm", comm, 256),
            new BtfBuilder.Member("e", se, 384),
            new BtfBuilder.Member("missing", i32, 416),
            new BtfBuilder.Member("", anon, 448));
        foreach (var s in new[] { "0:0", "0:1", "0:2", "0:3", "0:4", "0:5", "0:6", "0:7", "0:7:3", "0:8", "0:9", "0:10:0", "1:0" })
            b.AddString(s);
        return BtfSpec.Parse(b.Build());
    }

    // Target (the kernel):
    // struct task_struct {
    //     long pad;                                   //  0
    //     int pid;                                    //  8
    //     unsigned long flags;                        // 16
    //     int prio;                                   // 24
    //     union { struct { unsigned int b0:6, b1:3, b2:5; }; };   // 32 (bits 256..)
    //     unsigned int b3:8;                          // bit 284 (35.4)
    //     u64 big:40;                                 // bit 348 (43.4): cannot be loaded with 8 bytes
    //     char comm[16];                              // 56
    //     enum se e;                                  // 72 (unsigned this time)
    //     struct { struct { int deep; }; };           // 76
    // };
    private static BtfSpec Target(out int task, bool wideBig = true)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int lng = b.AddInt("long", 8, BtfIntEncoding.Signed);
        int u64 = b.AddInt("long unsigned int", 8);
        int chr = b.AddInt("char", 1);
        int comm = b.AddArray(chr, i32, 16);
        int ue = b.AddEnum("se", 4, false, ("A", 0));
        int bits = b.AddStruct("", 4, new BtfBuilder.Member("b0", u32, 0, 6), new BtfBuilder.Member("b1", u32, 6, 3), new BtfBuilder.Member("b2", u32, 9, 5));
        int un = b.AddUnion("", 4, new BtfBuilder.Member("", bits, 0));
        int deepIn = b.AddStruct("", 4, new BtfBuilder.Member("deep", i32, 0));
        int deepOut = b.AddStruct("", 4, new BtfBuilder.Member("", deepIn, 0));
        task = b.AddStruct("task_struct", 96,
            new BtfBuilder.Member("pad", lng, 0),
            new BtfBuilder.Member("pid", i32, 64),
            new BtfBuilder.Member("flags", u64, 128),
            new BtfBuilder.Member("prio", i32, 192),
            new BtfBuilder.Member("", un, 256),
            new BtfBuilder.Member("b3", u32, 284, 8),
            new BtfBuilder.Member("big", u64, wideBig ? 348u : 320u, 40),
            new BtfBuilder.Member("comm", comm, 448),
            new BtfBuilder.Member("e", ue, 576),
            new BtfBuilder.Member("", deepOut, 608));
        return BtfSpec.Parse(b.Build());
    }

    private static CoreResolution R(string access, CoreReloKind kind, bool wideBig = true)
    {
        var local = Local(out int lt);
        var target = Target(out _, wideBig);
        return Resolve(local, lt, access, kind, target);
    }

    [Theory]
    // plain fields: offset, size, existence
    [InlineData("0:0", Off, 0UL, 8UL, true)]
    [InlineData("0:0", Size, 4UL, 4UL, true)]
    [InlineData("0:0", Exists, 1UL, 1UL, true)]
    [InlineData("0:1", Off, 4UL, 16UL, true)]
    [InlineData("0:1", Size, 4UL, 8UL, true)]
    [InlineData("0:7", Off, 32UL, 56UL, true)]
    [InlineData("0:7", Size, 16UL, 16UL, true)]
    // array element accessor
    [InlineData("0:7:3", Off, 35UL, 59UL, true)]
    [InlineData("0:7:3", Size, 1UL, 1UL, true)]
    // root index: ptr[1].pid
    [InlineData("1:0", Off, 64UL, 104UL, true)]
    // a member inside anonymous structs on both sides
    [InlineData("0:10:0", Off, 56UL, 76UL, true)]
    // signedness: int, enum with kind_flag (local signed, target unsigned), char (signed locally, not in the kernel)
    [InlineData("0:0", Signed, 1UL, 1UL, true)]
    [InlineData("0:8", Signed, 1UL, 0UL, true)]
    [InlineData("0:1", Signed, 0UL, 0UL, true)]
    // non-bitfield shifts: 64 - size in bits (u32 arithmetic)
    [InlineData("0:0", LShift, 32UL, 32UL, true)]
    [InlineData("0:0", RShift, 32UL, 32UL, true)]
    [InlineData("0:7", LShift, 4294967232UL, 4294967232UL, true)]
    // bitfields: b1 (local 16.0:3, target bit 262:3)
    [InlineData("0:3", Off, 16UL, 32UL, false)]
    [InlineData("0:3", Size, 4UL, 4UL, false)]
    [InlineData("0:3", LShift, 61UL, 55UL, false)]
    [InlineData("0:3", RShift, 61UL, 61UL, true)]
    [InlineData("0:3", Signed, 0UL, 0UL, true)]
    [InlineData("0:3", Exists, 1UL, 1UL, true)]
    // b2 (local 16.3:5, target bit 265:5)
    [InlineData("0:4", LShift, 56UL, 50UL, false)]
    [InlineData("0:4", RShift, 59UL, 59UL, true)]
    // b3 needs an 8-byte load in the target (bit 284:8 crosses the 4-byte boundary at 288)
    [InlineData("0:5", Off, 16UL, 32UL, false)]
    [InlineData("0:5", Size, 4UL, 8UL, false)]
    [InlineData("0:5", LShift, 48UL, 28UL, false)]
    [InlineData("0:5", RShift, 56UL, 56UL, true)]
    public void FieldValuesFollowLibbpf(string access, CoreReloKind kind, ulong local, ulong target, bool validate)
    {
        var r = R(access, kind);
        Assert.False(r.Poison);
        Assert.Equal(local, r.LocalValue);
        Assert.Equal(target, r.TargetValue);
        Assert.Equal(validate, r.Validate);
        Assert.Single(r.Matched);
    }

    [Fact]
    public void BitfieldThatNoEightByteLoadCoversIsAnError()
    {
        // Locally big:40 at bit 192 fits an 8-byte load; in the target it starts at bit 348 and would need bytes 43..48.
        var e = Assert.Throws<BpfCoreRelocationException>(() => R("0:6", LShift));
        Assert.Equal(CoreErrorKind.BitfieldTooWide, e.Kind);
        Assert.Equal(Errno.E2BIG, e.Errno);
        Assert.Contains("can't be satisfied for bitfield", e.Message);
        // At bit 320 it fits: byte_off 40, byte_sz 8, lshift 64 - 40 = 24.
        var ok = R("0:6", LShift, wideBig: false);
        Assert.Equal(24UL, ok.LocalValue);
        Assert.Equal(24UL, ok.TargetValue);
        Assert.Equal(40UL, R("0:6", Off, wideBig: false).TargetValue);
    }

    [Fact]
    public void MissingFieldPoisonsExceptFieldExists()
    {
        var off = R("0:9", Off);
        Assert.True(off.Poison);
        Assert.Null(off.TargetSpec);
        Assert.Equal(52UL, off.LocalValue);
        Assert.Contains("task_struct___old.missing", off.Reason);
        Assert.Single(off.Candidates);
        Assert.Empty(off.Matched);
        var exists = R("0:9", Exists);
        Assert.False(exists.Poison);
        Assert.Equal(1UL, exists.LocalValue);
        Assert.Equal(0UL, exists.TargetValue);
        foreach (var k in new[] { Size, Signed, LShift, RShift })
            Assert.True(R("0:9", k).Poison);
    }

    [Fact]
    public void ArrayIndexBeyondTheTargetArrayDoesNotMatch()
    {
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int la = lb.AddArray(li, li, 8);
        int ls = lb.AddStruct("s", 32, new BtfBuilder.Member("a", la, 0));
        lb.AddString("0:0:6");
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int ta = tb.AddArray(ti, ti, 4);
        tb.AddStruct("s", 16, new BtfBuilder.Member("a", ta, 0));
        var r = Resolve(local, ls, "0:0:6", Off, BtfSpec.Parse(tb.Build()));
        Assert.True(r.Poison);
    }

    [Fact]
    public void FlexibleArraysMatchAnyIndexAndMultiDimensionalArraysNest()
    {
        // local: struct s { int n; int m[2][3]; int data[4]; }  target: struct s { long n; int m[2][3]; int data[]; }
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lrow = lb.AddArray(li, li, 3);
        int lm = lb.AddArray(lrow, li, 2);
        int ld = lb.AddArray(li, li, 4);
        int ls = lb.AddStruct("s", 44, new BtfBuilder.Member("n", li, 0), new BtfBuilder.Member("m", lm, 32), new BtfBuilder.Member("data", ld, 224));
        lb.AddString("0:1:1:2");
        lb.AddString("0:2:3");
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int tl = tb.AddInt("long", 8, BtfIntEncoding.Signed);
        int trow = tb.AddArray(ti, ti, 3);
        int tm = tb.AddArray(trow, ti, 2);
        int td = tb.AddArray(ti, ti, 0);
        tb.AddStruct("s", 32, new BtfBuilder.Member("n", tl, 0), new BtfBuilder.Member("m", tm, 64), new BtfBuilder.Member("data", td, 256));
        var target = BtfSpec.Parse(tb.Build());

        var m = Resolve(local, ls, "0:1:1:2", Off, target);
        Assert.Equal(4UL + 12 + 8, m.LocalValue);
        Assert.Equal(8UL + 12 + 8, m.TargetValue);
        Assert.Equal("<byte_off> [6] struct s.m[1][2] (0:1:1:2 @ offset 28)", m.TargetSpec!.ToString());

        var d = Resolve(local, ls, "0:2:3", Off, target);
        Assert.Equal(28UL + 12, d.LocalValue);
        Assert.Equal(32UL + 12, d.TargetValue);
        Assert.Equal(4UL, Resolve(local, ls, "0:2:3", Size, target).TargetValue);
    }

    [Fact]
    public void FlavoursAndAnonymousMembersAreMatchedByName()
    {
        var local = Local(out int lt);
        var r = Resolve(local, lt, "0:10:0", Off, Target(out int tt));
        Assert.Equal($"<byte_off> [{lt}] struct task_struct___old.deep (0:10:0 @ offset 56)", r.LocalSpec.ToString());
        Assert.Equal($"<byte_off> [{tt}] struct task_struct.deep (0:9:0:0 @ offset 76)", r.TargetSpec!.ToString());
        Assert.Equal(new[] { 0, 9, 0, 0 }, r.TargetSpec!.RawSpec);
        Assert.Equal("task_struct.deep", r.TargetSpec.FieldPath);
        Assert.Equal("vmlinux", r.Target!.Value.Source);
    }

    [Fact]
    public void LoadSizeAdjustmentRules()
    {
        // u32 -> u64: unsigned integers may be resized.
        var flags = R("0:1", Off);
        Assert.Equal(4u, flags.LocalSize);
        Assert.Equal(8u, flags.TargetSize);
        Assert.False(flags.FailMemorySizeAdjust);
        // long -> int: signed, a resized load would be wrong.
        var prio = R("0:2", Off);
        Assert.Equal(8u, prio.LocalSize);
        Assert.Equal(4u, prio.TargetSize);
        Assert.True(prio.FailMemorySizeAdjust);
        // A bitfield has no load size.
        var b1 = R("0:3", Off);
        Assert.Equal(0u, b1.LocalSize);
        Assert.Equal(0u, b1.TargetSize);
    }

    [Fact]
    public void KindMismatchedFieldsDoNotMatch()
    {
        // local: struct k { int a; struct x *p; enum en e; }  target: struct k { struct y a; int p; enum other e; }
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lx = lb.AddStruct("x", 4, new BtfBuilder.Member("v", li, 0));
        int lp = lb.AddPointer(lx);
        int le = lb.AddEnum("en", 4, false, ("E0", 0));
        int lk = lb.AddStruct("k", 16, new BtfBuilder.Member("a", li, 0), new BtfBuilder.Member("p", lp, 64), new BtfBuilder.Member("e", le, 96));
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int ty = tb.AddStruct("y", 4, new BtfBuilder.Member("v", ti, 0));
        int te = tb.AddEnum("other", 4, false, ("E0", 0));
        tb.AddStruct("k", 16, new BtfBuilder.Member("a", ty, 0), new BtfBuilder.Member("p", ti, 64), new BtfBuilder.Member("e", te, 96));
        var target = BtfSpec.Parse(tb.Build());
        Assert.True(Resolve(local, lk, "0:0", Off, target).Poison);   // int vs struct
        Assert.True(Resolve(local, lk, "0:1", Off, target).Poison);   // ptr vs int
        Assert.True(Resolve(local, lk, "0:2", Off, target).Poison);   // enums with different names
    }

    [Fact]
    public void StructsAndUnionsAreInterchangeableAsFieldsButNotAsRoots()
    {
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lu = lb.AddUnion("inner", 4, new BtfBuilder.Member("v", li, 0));
        int lo = lb.AddStruct("outer", 4, new BtfBuilder.Member("in", lu, 0));
        int lun = lb.AddUnion("outer2", 4, new BtfBuilder.Member("x", li, 0));
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int ts = tb.AddStruct("inner", 4, new BtfBuilder.Member("v", ti, 0));
        tb.AddStruct("outer", 8, new BtfBuilder.Member("pad", ti, 0), new BtfBuilder.Member("in", ts, 32));
        tb.AddStruct("outer2", 4, new BtfBuilder.Member("x", ti, 0));
        var target = BtfSpec.Parse(tb.Build());
        Assert.Equal(4UL, Resolve(local, lo, "0:0:0", Off, target).TargetValue);
        // The root kind must be the same: a local union only has union candidates.
        var r = Resolve(local, lun, "0:0", Off, target);
        Assert.True(r.Poison);
        Assert.Empty(r.Candidates);
    }

    [Fact]
    public void CandidatesThatAgreeAreAllMatchedAndKept()
    {
        var local = Local(out int lt);
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int a = tb.AddStruct("task_struct", 8, new BtfBuilder.Member("pid", ti, 32));
        int b = tb.AddStruct("task_struct___2", 16, new BtfBuilder.Member("pid", ti, 32), new BtfBuilder.Member("x", ti, 64));
        var cache = new CoreCandidateCache(new CoreTargets(BtfSpec.Parse(tb.Build()), "dup kernel"));
        var r = CoreResolver.Resolve(local, lt, "0:0", Off, cache);
        Assert.Equal(4UL, r.TargetValue);
        Assert.Equal(new[] { a, b }, r.Matched.Select(m => m.TypeId));
        Assert.Equal(new[] { a, b }, cache.GetCandidates(local, lt).Select(c => c.TypeId));
    }

    [Fact]
    public void CandidatesThatDisagreeOnTheOffsetAreAmbiguous()
    {
        var local = Local(out int lt);
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        tb.AddStruct("task_struct", 8, new BtfBuilder.Member("pid", ti, 128));
        tb.AddStruct("task_struct", 16, new BtfBuilder.Member("pid", ti, 192));
        var target = BtfSpec.Parse(tb.Build());
        var e = Assert.Throws<BpfCoreRelocationException>(() => Resolve(local, lt, "0:0", Off, target));
        Assert.Equal(CoreErrorKind.Ambiguous, e.Kind);
        Assert.StartsWith("field offset ambiguity: 192 != 128", e.Message);
    }

    [Fact]
    public void CandidatesThatDisagreeOnTheValueAreAmbiguous()
    {
        var local = Local(out int lt);
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int tl = tb.AddInt("long", 8, BtfIntEncoding.Signed);
        tb.AddStruct("task_struct", 8, new BtfBuilder.Member("pid", ti, 0));
        tb.AddStruct("task_struct", 16, new BtfBuilder.Member("pid", tl, 0));
        var target = BtfSpec.Parse(tb.Build());
        Assert.Equal(0UL, Resolve(local, lt, "0:0", Off, target).TargetValue);
        var e = Assert.Throws<BpfCoreRelocationException>(() => Resolve(local, lt, "0:0", Size, target));
        Assert.StartsWith("relocation decision ambiguity: success 8 != success 4", e.Message);
    }

    [Fact]
    public void AMatchPrunesTheCandidatesForLaterRelocationsOfTheSameType()
    {
        // Two kernel types named task_struct: only the second has "comm". After comm is resolved, pid (which both
        // have, at different offsets) is no longer ambiguous: libbpf's candidate cache was pruned to the second.
        var local = Local(out int lt);
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int tc = tb.AddInt("char", 1);
        int arr = tb.AddArray(tc, ti, 16);
        int a = tb.AddStruct("task_struct", 8, new BtfBuilder.Member("pid", ti, 0));
        int b = tb.AddStruct("task_struct", 32, new BtfBuilder.Member("pid", ti, 32), new BtfBuilder.Member("comm", arr, 64));
        var target = BtfSpec.Parse(tb.Build());

        var fresh = new CoreCandidateCache(new CoreTargets(target, "k"));
        Assert.Throws<BpfCoreRelocationException>(() => CoreResolver.Resolve(local, lt, "0:0", Off, fresh));
        Assert.Equal(new[] { a, b }, fresh.GetCandidates(local, lt).Select(c => c.TypeId));

        var cache = new CoreCandidateCache(new CoreTargets(target, "k"));
        var comm = CoreResolver.Resolve(local, lt, "0:7", Off, cache);
        Assert.Equal(8UL, comm.TargetValue);
        Assert.Equal(2, comm.Candidates.Count);
        Assert.Equal(new[] { b }, cache.GetCandidates(local, lt).Select(c => c.TypeId));
        var pid = CoreResolver.Resolve(local, lt, "0:0", Off, cache);
        Assert.Equal(4UL, pid.TargetValue);
        Assert.Single(pid.Candidates);

        // A relocation that matches nothing leaves the list alone.
        Assert.True(CoreResolver.Resolve(local, lt, "0:9", Off, cache).Poison);
        Assert.Single(cache.GetCandidates(local, lt));
        cache.Clear();
        Assert.Equal(2, cache.GetCandidates(local, lt).Count);
    }

    [Fact]
    public void ModuleBtfIsSearchedOnlyWhenTheKernelHasNoCandidate()
    {
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lk = lb.AddStruct("in_kernel", 4, new BtfBuilder.Member("v", li, 0));
        int lm = lb.AddStruct("nf_conn___mine", 4, new BtfBuilder.Member("mark", li, 0));
        var local = BtfSpec.Parse(lb.Build());

        var kb = new BtfBuilder();
        int ki = kb.AddInt("int", 4, BtfIntEncoding.Signed);
        kb.AddStruct("in_kernel", 8, new BtfBuilder.Member("v", ki, 32));
        var kernel = BtfSpec.Parse(kb.Build());

        var mb = new BtfBuilder(kernel);
        mb.AddStruct("in_kernel", 8, new BtfBuilder.Member("v", ki, 0));
        int conn = mb.AddStruct("nf_conn", 16, new BtfBuilder.Member("mark", ki, 96));
        var module = BtfSpec.Parse(mb.Build(), kernel);

        int opened = 0;
        var targets = new CoreTargets(kernel, "vmlinux 6.x", new[]
        {
            new CoreModuleBtf("nf_conntrack", () => { opened++; return module; }),
        });
        var cache = new CoreCandidateCache(targets);
        var k = CoreResolver.Resolve(local, lk, "0:0", Off, cache);
        Assert.Equal(4UL, k.TargetValue);
        Assert.Equal("vmlinux", k.Target!.Value.Source);
        Assert.Equal(0, opened);

        var m = CoreResolver.Resolve(local, lm, "0:0", Off, cache);
        Assert.Equal(12UL, m.TargetValue);
        Assert.Equal(conn, m.Target!.Value.TypeId);
        Assert.Equal("nf_conntrack", m.Target.Value.Source);
        Assert.Same(module, m.Target.Value.Btf);
        Assert.Equal(1, opened);
        Assert.Equal($"[{conn}] struct nf_conn in nf_conntrack", m.Target.Value.ToString());
    }

    [Fact]
    public void AnonymousMemberRecursionInCyclicBtfStopsAt64Levels()
    {
        // struct s { struct s; } (anonymous member of its own type): libbpf's match_member stops with -E2BIG.
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int ls = lb.AddStruct("s", 4, new BtfBuilder.Member("v", li, 0));
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        tb.AddInt("int", 4, BtfIntEncoding.Signed);
        tb.AddStruct("s", 4, new BtfBuilder.Member("", 2, 0)); // id 2: itself
        var target = BtfSpec.Parse(tb.Build());
        var e = Assert.Throws<BpfCoreRelocationException>(() => Resolve(local, ls, "0:0", Off, target));
        Assert.Equal(CoreErrorKind.AccessTooDeep, e.Kind);
        Assert.StartsWith("error matching candidate #0 [2] struct s in vmlinux: ", e.Message);
    }
}
