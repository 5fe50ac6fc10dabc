using System.Linq;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;
using static Ebpf.Objects.Tests.Core.CoreTestUtil;

namespace Ebpf.Objects.Tests.Core;

/// <summary>Type relocations (type_exists, type_size, type_matches, local/target type ids) and enum value relocations.</summary>
public class CoreTypeTests
{
    private sealed class Pair
    {
        public BtfBuilder L = new BtfBuilder();
        public BtfBuilder T = new BtfBuilder();
        public int LInt, LUint, LLong, LChar, TInt, TUint, TLong, TChar;

        public Pair()
        {
            LInt = L.AddInt("int", 4, BtfIntEncoding.Signed);
            LUint = L.AddInt("unsigned int", 4);
            LLong = L.AddInt("long", 8, BtfIntEncoding.Signed);
            LChar = L.AddInt("char", 1, BtfIntEncoding.Signed);
            TInt = T.AddInt("int", 4, BtfIntEncoding.Signed);
            TUint = T.AddInt("unsigned int", 4);
            TLong = T.AddInt("long", 8, BtfIntEncoding.Signed);
            TChar = T.AddInt("char", 1);
        }

        public (BtfSpec Local, BtfSpec Target) Build() => (BtfSpec.Parse(L.Build()), BtfSpec.Parse(T.Build()));
    }

    private static CoreResolution R(BtfSpec local, int id, CoreReloKind kind, BtfSpec target, string access = "0") => Resolve(local, id, access, kind, target);

    [Fact]
    public void TypeExistsSizeAndIds()
    {
        var p = new Pair();
        int ls = p.L.AddStruct("task_struct___mine", 8, new BtfBuilder.Member("pid", p.LInt, 0));
        int ltd = p.L.AddTypedef("pid_t", p.LInt);
        int lgone = p.L.AddStruct("gone", 4);
        int ts = p.T.AddStruct("task_struct", 3264, new BtfBuilder.Member("pid", p.TInt, 0));
        int ttd = p.T.AddTypedef("pid_t", p.TInt);
        var (local, target) = p.Build();

        var exists = R(local, ls, CoreReloKind.TypeExists, target);
        Assert.Equal((1UL, 1UL), (exists.LocalValue, exists.TargetValue));
        Assert.Equal($"<type_exists> [{ts}] struct task_struct", exists.TargetSpec!.ToString());
        Assert.Equal((8UL, 3264UL), (R(local, ls, CoreReloKind.TypeSize, target).LocalValue, R(local, ls, CoreReloKind.TypeSize, target).TargetValue));
        var tid = R(local, ltd, CoreReloKind.TypeIdTarget, target);
        Assert.Equal(((ulong)ltd, (ulong)ttd), (tid.LocalValue, tid.TargetValue));
        Assert.False(tid.Validate);
        Assert.Equal(4UL, R(local, ltd, CoreReloKind.TypeSize, target).TargetValue);

        // Missing types give 0 for every type kind, never a poison.
        foreach (var k in new[] { CoreReloKind.TypeExists, CoreReloKind.TypeSize, CoreReloKind.TypeIdTarget, CoreReloKind.TypeMatches })
        {
            var r = R(local, lgone, k, target);
            Assert.False(r.Poison);
            Assert.Equal(0UL, r.TargetValue);
            Assert.Contains("gone", r.Reason);
        }
    }

    [Fact]
    public void LocalTypeIdNeedsNoTargetAndIsNotValidated()
    {
        var p = new Pair();
        int ptr = p.L.AddPointer(p.LInt);
        var (local, target) = p.Build();
        var cache = new CoreCandidateCache(new CoreTargets(target, "k"));
        var r = CoreResolver.Resolve(local, ptr, "0", CoreReloKind.TypeIdLocal, cache);
        Assert.Equal(((ulong)ptr, (ulong)ptr), (r.LocalValue, r.TargetValue));
        Assert.False(r.Validate);
        Assert.Empty(r.Candidates);
        // void works too (type id 0).
        Assert.Equal(0UL, CoreResolver.Resolve(local, 0, "0", CoreReloKind.TypeIdLocal, cache).TargetValue);
    }

    [Fact]
    public void AnonymousAndVoidLocalTypesCannotBeSearched()
    {
        var p = new Pair();
        int ptr = p.L.AddPointer(p.LInt);
        int anon = p.L.AddStruct("", 4, new BtfBuilder.Member("x", p.LInt, 0));
        var (local, target) = p.Build();
        foreach (var (id, kind, access) in new[] { (ptr, CoreReloKind.TypeIdTarget, "0"), (anon, CoreReloKind.FieldByteOffset, "0:0"), (0, CoreReloKind.TypeExists, "0") })
        {
            var e = Assert.Throws<BpfCoreRelocationException>(() => Resolve(local, id, access, kind, target));
            Assert.Equal(CoreErrorKind.AnonymousType, e.Kind);
            Assert.Contains("target candidate search failed", e.Message);
        }
    }

    [Fact]
    public void TypesAreCompatibleRules()
    {
        var p = new Pair();
        // typedef int (*cb_t)(int, long); vs kernel's typedef int (*cb_t)(int, long, char)
        int lproto = p.L.AddFuncProto(p.LInt, ("a", p.LInt), ("b", p.LLong));
        int lcb = p.L.AddTypedef("cb_t", p.L.AddPointer(lproto));
        int lcb2 = p.L.AddTypedef("cb2_t", p.L.AddPointer(p.L.AddFuncProto(p.LInt, ("a", p.LUint))));
        int lbf = p.L.AddTypedef("bitint_t", p.L.AddInt("int", 4, BtfIntEncoding.Signed, bits: 3, bitOffset: 0));
        int lflt = p.L.AddTypedef("flt_t", p.L.AddFloat("float", 4));
        int lenum = p.L.AddTypedef("e_t", p.L.AddEnum("e", 4, false, ("X", 1)));
        int tproto = p.T.AddFuncProto(p.TInt, ("a", p.TInt), ("b", p.TLong), ("c", p.TChar));
        p.T.AddTypedef("cb_t", p.T.AddPointer(tproto));
        p.T.AddTypedef("cb2_t", p.T.AddPointer(p.T.AddFuncProto(p.TLong, ("x", p.TInt))));
        p.T.AddTypedef("bitint_t", p.T.AddInt("int", 4, BtfIntEncoding.Signed, bits: 3, bitOffset: 2));
        p.T.AddTypedef("flt_t", p.T.AddFloat("float", 4));
        p.T.AddTypedef("e_t", p.T.AddEnum64("e", 8, false, ("Y", 1)));
        var (local, target) = p.Build();
        Assert.Equal(0UL, R(local, lcb, CoreReloKind.TypeExists, target).TargetValue);   // arity differs
        Assert.Equal(1UL, R(local, lcb2, CoreReloKind.TypeExists, target).TargetValue);  // ints are ints, names of params ignored
        Assert.Equal(0UL, R(local, lbf, CoreReloKind.TypeExists, target).TargetValue);   // bitfield-like int with an offset
        Assert.Equal(0UL, R(local, lflt, CoreReloKind.TypeExists, target).TargetValue);  // libbpf has no rule for FLOAT here
        Assert.Equal(1UL, R(local, lenum, CoreReloKind.TypeExists, target).TargetValue); // enum vs enum64, names not checked
        Assert.Equal(8UL, R(local, lenum, CoreReloKind.TypeSize, target).TargetValue);
    }

    [Fact]
    public void TypeCompatibilityRecursionIsLimited()
    {
        var p = new Pair();
        int l = p.LInt, t = p.TInt;
        for (int i = 0; i < 40; i++)
        {
            l = p.L.AddPointer(l);
            t = p.T.AddPointer(t);
        }
        int lroot = p.L.AddTypedef("deep_t", l);
        p.T.AddTypedef("deep_t", t);
        var (local, target) = p.Build();
        var e = Assert.Throws<BpfCoreRelocationException>(() => R(local, lroot, CoreReloKind.TypeExists, target));
        Assert.Equal(CoreErrorKind.CandidateMatchFailed, e.Kind);
        Assert.Contains("deeper than 32", e.Message);
        Assert.Throws<BpfCoreRelocationException>(() => R(local, lroot, CoreReloKind.TypeMatches, target));
    }

    [Fact]
    public void TypeMatchesPositiveAndNegative()
    {
        var p = new Pair();
        // kernel: struct list_head { struct list_head *next, *prev; }; struct task_struct { int pid; char comm[16];
        //         struct mm_struct *mm; union { int u; }; }; struct mm_struct (fwd only); enum pid_type { PID, TGID } (4 bytes)
        int tlh = p.T.AddStruct("list_head", 16);
        int tlp = p.T.AddPointer(tlh);
        var tlhFixed = p.T.AddStruct("list_head", 16, new BtfBuilder.Member("next", tlp, 0), new BtfBuilder.Member("prev", tlp, 64));
        int tmm = p.T.AddFwd("mm_struct");
        int tcomm = p.T.AddArray(p.TChar, p.TInt, 16);
        int tu = p.T.AddUnion("", 4, new BtfBuilder.Member("u", p.TInt, 0));
        p.T.AddStruct("task_struct", 64, new BtfBuilder.Member("pid", p.TInt, 0), new BtfBuilder.Member("comm", tcomm, 32),
            new BtfBuilder.Member("mm", p.T.AddPointer(tmm), 192), new BtfBuilder.Member("", tu, 256));
        p.T.AddEnum("pid_type", 4, false, ("PID", 0), ("TGID", 1));
        p.T.AddTypedef("pid_t", p.TInt);

        int llh = p.L.AddStruct("list_head___m", 16);
        int llp = p.L.AddPointer(p.L.AddStruct("list_head", 16));
        int lmatch = p.L.AddStruct("list_head___m2", 16, new BtfBuilder.Member("prev", llp, 0));
        int lbad = p.L.AddStruct("list_head___bad", 16, new BtfBuilder.Member("next", p.LLong, 0));
        int lmm = p.L.AddStruct("mm_struct", 8, new BtfBuilder.Member("x", p.LInt, 0));
        int lfew = p.L.AddStruct("task_struct___few", 8, new BtfBuilder.Member("pid", p.LInt, 0), new BtfBuilder.Member("mm", p.L.AddPointer(lmm), 64));
        int lanon = p.L.AddStruct("task_struct___anon", 4, new BtfBuilder.Member("", p.L.AddUnion("", 4, new BtfBuilder.Member("u", p.LInt, 0)), 0));
        int lcomm = p.L.AddStruct("task_struct___comm", 16, new BtfBuilder.Member("comm", p.L.AddArray(p.LChar, p.LInt, 16), 0));
        int lucomm = p.L.AddStruct("task_struct___ucomm", 16, new BtfBuilder.Member("comm", p.L.AddArray(p.L.AddInt("char", 1), p.LInt, 16), 0));
        int lshort = p.L.AddStruct("task_struct___short", 8, new BtfBuilder.Member("comm", p.L.AddArray(p.L.AddInt("char", 1), p.LInt, 8), 0));
        int lsign = p.L.AddStruct("task_struct___upid", 4, new BtfBuilder.Member("pid", p.LUint, 0));
        int lunion = p.L.AddUnion("task_struct___u", 4, new BtfBuilder.Member("pid", p.LInt, 0));
        int lefew = p.L.AddEnum("pid_type___few", 4, false, ("TGID", 7));
        int lebad = p.L.AddEnum("pid_type___bad", 4, false, ("NOPE", 0));
        int lebig = p.L.AddEnum64("pid_type___64", 8, false, ("PID", 0));
        int letd = p.L.AddTypedef("pid_t", p.LInt);
        int letd2 = p.L.AddTypedef("pid_t", p.LUint);
        var (local, target) = p.Build();

        ulong M(int id) => R(local, id, CoreReloKind.TypeMatches, target).TargetValue;
        Assert.Equal(1UL, M(llh));      // no members: trivially matches
        Assert.Equal(1UL, M(lmatch));   // a subset of the members, pointers to the same-named struct
        Assert.Equal(0UL, M(lbad));     // long vs pointer
        Assert.Equal(1UL, M(lfew));     // struct behind a pointer matches the kernel's forward declaration
        Assert.Equal(1UL, M(lanon));    // anonymous members match anonymous members
        Assert.Equal(0UL, M(lcomm));    // char signedness differs
        Assert.Equal(1UL, M(lucomm));
        Assert.Equal(0UL, M(lshort));   // array lengths differ
        Assert.Equal(0UL, M(lsign));    // int signedness differs
        Assert.Equal(0UL, M(lunion));   // no union candidate at all
        Assert.Equal(1UL, M(lefew));    // enumerators by name, not value
        Assert.Equal(0UL, M(lebad));
        Assert.Equal(0UL, M(lebig));    // sizes differ
        Assert.Equal(1UL, M(letd));
        Assert.Equal(0UL, M(letd2));
        Assert.Equal(tlhFixed, R(local, lmatch, CoreReloKind.TypeMatches, target).Target!.Value.TypeId);
        // type_exists is laxer: the same-named struct exists even though the members disagree.
        Assert.Equal(1UL, R(local, lbad, CoreReloKind.TypeExists, target).TargetValue);
    }

    [Fact]
    public void EnumValuesAndEnum64Interchange()
    {
        var p = new Pair();
        int le = p.L.AddEnum("state___mine", 4, false, ("RUNNING___mine", 100), ("GONE", 5));
        int le64 = p.L.AddEnum64("big", 8, true, ("NEG", unchecked((ulong)-4095L)), ("HUGE", 1UL << 40));
        int lhigh = p.L.AddEnum("high", 4, false, ("H", 0x80000000));
        p.T.AddEnum64("state", 8, false, ("RUNNING", 0), ("STOPPED", 1UL << 35));
        p.T.AddEnum("big", 4, true, ("HUGE", 3), ("NEG", -128));
        p.T.AddEnum("high", 4, false, ("H", 0xfffffffe));
        var (local, target) = p.Build();
        CoreResolution E(int id, string access, CoreReloKind kind) => Resolve(local, id, access, kind, target);

        var run = E(le, "0", CoreReloKind.EnumValueValue);
        Assert.Equal((100UL, 0UL), (run.LocalValue, run.TargetValue));
        Assert.Equal("RUNNING", run.TargetSpec!.EnumeratorName);
        Assert.Equal(1UL, E(le, "0", CoreReloKind.EnumValueExists).TargetValue);
        var gone = E(le, "1", CoreReloKind.EnumValueValue);
        Assert.True(gone.Poison);
        Assert.Contains("enumerator GONE", gone.Reason);
        var goneExists = E(le, "1", CoreReloKind.EnumValueExists);
        Assert.False(goneExists.Poison);
        Assert.Equal(0UL, goneExists.TargetValue);

        // enum64 local against a 32-bit kernel enum: 32-bit values are sign-extended as libbpf reads them (__s32).
        var neg = E(le64, "0", CoreReloKind.EnumValueValue);
        Assert.Equal(unchecked((ulong)-4095L), neg.LocalValue);
        Assert.Equal(unchecked((ulong)-128L), neg.TargetValue);
        Assert.Equal(3UL, E(le64, "1", CoreReloKind.EnumValueValue).TargetValue);
        var high = E(lhigh, "0", CoreReloKind.EnumValueValue);
        Assert.Equal(0xffffffff80000000UL, high.LocalValue);
        Assert.Equal(0xfffffffffffffffeUL, high.TargetValue);
    }

    [Fact]
    public void CandidateKindsFollowLibbpf()
    {
        var p = new Pair();
        int lstruct = p.L.AddStruct("thing", 4);
        int lfwd = p.L.AddFwd("thing");
        int ltd = p.L.AddTypedef("thing", p.LInt);
        int lenum = p.L.AddEnum("thing", 4, false, ("A", 0));
        int ts = p.T.AddStruct("thing", 4);
        int tu = p.T.AddUnion("thing", 4);
        int tf = p.T.AddFwd("thing");
        int ttd = p.T.AddTypedef("thing", p.TInt);
        int te64 = p.T.AddEnum64("thing___v2", 8, false, ("A", 0));
        int te = p.T.AddEnum("thing", 4, false, ("A", 0));
        var (local, target) = p.Build();
        var targets = new CoreTargets(target, "k");
        int[] C(int id) => CoreCandidateCache.FindCandidates(local, id, targets).Select(c => c.TypeId).ToArray();
        Assert.Equal(new[] { ts }, C(lstruct));
        Assert.Equal(new[] { tf }, C(lfwd));
        Assert.Equal(new[] { ttd }, C(ltd));
        Assert.Equal(new[] { te64, te }, C(lenum));
        Assert.DoesNotContain(tu, C(lstruct));
    }
}
