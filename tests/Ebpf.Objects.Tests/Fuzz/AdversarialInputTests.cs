using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Fuzz;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Objects.Tests.Fuzz;

/// <summary>
/// Hand-made hostile inputs the random mutants rarely reach: BTF reference cycles (a typedef of itself, a struct
/// containing itself, an array of itself, mutual recursion, ...), types whose inline expansion multiplies, very long
/// chains, and counts far larger than the input (which must be refused before anything is allocated for them).
/// </summary>
public class AdversarialInputTests
{
    // ------------------------------------------------------------------ BTF reference cycles and blow-ups

    public static TheoryData<string> BtfCases() => new TheoryData<string>(s_btfCases.Keys);

    private static readonly Dictionary<string, Func<BtfBuilder, int>> s_btfCases = new Dictionary<string, Func<BtfBuilder, int>>
    {
        // Each builds types into a fresh builder (ids start at 1) and returns the type a CO-RE record should name.
        ["typedef A -> A"] = b => b.AddTypedef("A", 1),
        ["typedef A -> B -> A"] = b => { b.AddTypedef("A", 2); b.AddTypedef("B", 1); return 1; },
        ["const -> volatile -> const"] = b => { b.AddConst(2); b.AddVolatile(1); return 1; },
        ["restrict/type_tag loop"] = b => { b.AddRestrict(2); b.AddTypeTag("tag", 1); return 1; },
        ["struct containing itself"] = b => { b.AddInt("int", 4); return b.AddStruct("S", 8, new BtfBuilder.Member("i", 1, 0), new BtfBuilder.Member("self", 2, 32)); },
        ["array of itself"] = b => { b.AddInt("int", 4); b.AddArray(2, 1, 4); return b.AddStruct("S", 16, new BtfBuilder.Member("a", 2, 0)); },
        ["struct S { T } struct T { S }"] = b =>
        {
            b.AddInt("int", 4);
            b.AddStruct("S", 4, new BtfBuilder.Member("t", 3, 0));
            b.AddStruct("T", 4, new BtfBuilder.Member("s", 2, 0));
            return 2;
        },
        ["struct with a typedef of itself"] = b => { b.AddTypedef("X", 2); return b.AddStruct("S", 4, new BtfBuilder.Member("x", 1, 0)); },
        ["union containing itself through an anonymous struct"] = b =>
        {
            b.AddInt("int", 4);
            b.AddUnion("U", 4, new BtfBuilder.Member("", 3, 0));
            b.AddStruct("", 4, new BtfBuilder.Member("u", 2, 0));
            return 2;
        },
        ["func_proto returning itself"] = b => { b.AddFuncProto(1, ("x", 1)); return b.AddFunc("f", 1); },
        ["pointer to pointer to itself"] = b => { b.AddPointer(2); b.AddPointer(1); return b.AddStruct("S", 8, new BtfBuilder.Member("p", 1, 0)); },
        ["enum-sized struct member of void"] = b => b.AddStruct("S", 8, new BtfBuilder.Member("v", 0, 0), new BtfBuilder.Member("w", 0, 64)),
        ["datasec variable of a datasec"] = b => { b.AddVar("v", 2); return b.AddDatasec(".data", 4, (1, 0u, 4u)); },
        ["member beyond a struct's size"] = b => { b.AddInt("int", 4); return b.AddStruct("S", 4, new BtfBuilder.Member("far", 1, 0xfffff0)); },
        ["4 GiB struct"] = b => { b.AddInt("int", 4); return b.AddStruct("S", -1, new BtfBuilder.Member("i", 1, 0)); },
        ["anonymous structs doubling 40 times"] = b =>
        {
            int prev = b.AddInt("int", 4);
            long size = 4;
            for (int i = 0; i < 40; i++)
            {
                size = Math.Min(size * 2, int.MaxValue / 16);
                prev = b.AddStruct(i == 39 ? "top" : "", (int)size, new BtfBuilder.Member("a", prev, 0), new BtfBuilder.Member("b", prev, 0));
            }
            return prev;
        },
        ["named structs with 8 members of the previous, 40 deep"] = b =>
        {
            int prev = b.AddInt("int", 4);
            for (int i = 0; i < 40; i++)
            {
                var members = new BtfBuilder.Member[8];
                for (int m = 0; m < members.Length; m++)
                    members[m] = new BtfBuilder.Member("m" + m, prev, 0);
                prev = b.AddStruct("L" + i, 4, members);
            }
            return prev;
        },
        ["typedefs nested with fan-out through arrays and unions"] = b =>
        {
            int prev = b.AddInt("int", 4);
            for (int i = 0; i < 40; i++)
            {
                int arr = b.AddArray(prev, 1, 2);
                prev = b.AddUnion("", 8, new BtfBuilder.Member("x", arr, 0), new BtfBuilder.Member("y", prev, 0), new BtfBuilder.Member("z", arr, 0));
            }
            return b.AddTypedef("top_t", prev);
        },
        ["3000 pointers deep"] = b =>
        {
            int prev = b.AddInt("int", 4);
            for (int i = 0; i < 3000; i++)
                prev = b.AddPointer(prev);
            return b.AddStruct("S", 8, new BtfBuilder.Member("p", prev, 0));
        },
        ["3000 typedefs deep"] = b =>
        {
            int prev = b.AddInt("int", 4);
            for (int i = 0; i < 3000; i++)
                prev = b.AddTypedef("t" + i, prev);
            return b.AddStruct("S", 4, new BtfBuilder.Member("t", prev, 0));
        },
        ["3000 nested anonymous structs"] = b =>
        {
            int prev = b.AddInt("int", 4);
            for (int i = 0; i < 3000; i++)
                prev = b.AddStruct(i == 2999 ? "S" : "", 4, new BtfBuilder.Member("m", prev, 0));
            return prev;
        },
        ["struct with 65535 members"] = b =>
        {
            int i32 = b.AddInt("int", 4);
            var members = new BtfBuilder.Member[65535];
            for (int m = 0; m < members.Length; m++)
                members[m] = new BtfBuilder.Member("m" + m, i32, (uint)m * 32);
            return b.AddStruct("wide", 65535 * 4, members);
        },
        ["func_proto with 65535 parameters"] = b =>
        {
            int i32 = b.AddInt("int", 4);
            var ps = new (string, int)[65535];
            for (int p = 0; p < ps.Length; p++) ps[p] = ("", i32);
            return b.AddFunc("f", b.AddFuncProto(i32, ps));
        },
    };

    private static byte[] Build(string name, out int typeId, out uint accessOffset)
    {
        var b = new BtfBuilder();
        typeId = s_btfCases[name](b);
        accessOffset = (uint)b.AddString("0:0");
        return b.Build();
    }

    [Theory]
    [MemberData(nameof(BtfCases))]
    public void HostileBtfEndsInATypedErrorOrSuccess(string name)
    {
        var blob = Build(name, out _, out _);
        FuzzCheck.Run(ObjectFuzzTargets.Btf, blob, name);
        FuzzCheck.Run(ObjectFuzzTargets.Btf, BigEndian(name), name + " (big-endian)");
        // As an object's own BTF: DATASEC fix-ups, sanitizer, loader's CO-RE pass (its records now name other types).
        var host = File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, ObjectFuzzTargets.HostObject));
        FuzzCheck.Run(ObjectFuzzTargets.Core, ObjectFuzzTargets.SpliceSection(host, ".BTF", blob), name + " as .BTF");
        FuzzCheck.Run(ObjectFuzzTargets.Object, ObjectFuzzTargets.SpliceSection(host, ".BTF", blob), name + " as .BTF");
    }

    private static byte[] BigEndian(string name)
    {
        var b = new BtfBuilder();
        s_btfCases[name](b);
        return b.Build(littleEndian: false);
    }

    /// <summary>Every CO-RE relocation kind on the hostile type, as the local type and against it as the target.</summary>
    [Theory]
    [MemberData(nameof(BtfCases))]
    public void CoreResolverOnHostileTypesEndsInATypedErrorOrSuccess(string name)
    {
        var blob = Build(name, out int typeId, out uint access);
        var spec = BtfSpec.Parse(blob);
        var asTarget = new CoreTargets(spec, "hostile");
        var kernel = new CoreTargets(ObjectFuzzTargets.KernelBtf, "vmlinux 6.1");
        Bounded(name, () =>
        {
            foreach (CoreReloKind kind in Enum.GetValues(typeof(CoreReloKind)))
            {
                foreach (var insn in new[]
                {
                    new BpfInstruction(0x61, 0, 1, 0, 0),     // r0 = *(u32 *)(r1 + 0)
                    new BpfInstruction(0xb7, 0, 0, 0, 0),     // r0 = 0
                })
                {
                    foreach (var targets in new[] { asTarget, kernel })
                    {
                        var insns = new[] { insn, new BpfInstruction(0x95, 0, 0, 0, 0) };
                        var rec = new CoreRelocationRecord(0, new BtfCoreRelo(0, typeId, access, kind));
                        try
                        {
                            CoreRelocator.Apply(insns, 0, "sec", "prog", new[] { rec }, spec, new CoreCandidateCache(targets));
                        }
                        catch (BpfCoreRelocationException)
                        {
                        }
                    }
                }
            }
        });
    }

    private static void Bounded(string what, Action action)
    {
        var sw = Stopwatch.StartNew();
        var task = Task.Factory.StartNew(() =>
        {
            try
            {
                action();
                return null;
            }
            catch (Exception e) when (ObjectFuzzTargets.IsExpected(e))
            {
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }, default, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(FuzzCheck.Timeout))
            Assert.Fail($"{what}: did not finish within {FuzzCheck.Timeout.TotalSeconds} s");
        if (task.Result is { } e)
            Assert.Fail($"{what}: {e}");
    }

    // ------------------------------------------------------------------ counts larger than the input

    /// <summary>What a count-driven allocation would exceed: these inputs are a few KiB, so 4 MiB is far above an honest parse.</summary>
    private const long SmallAllocationLimit = 4L << 20;

    [Fact]
    public void BtfHeaderClaimingHugeSectionsIsRefusedBeforeAllocating()
    {
        var blob = Build("typedef A -> A", out _, out _);
        foreach (var (field, value) in new (int, uint)[] { (12, 0xfffffff0), (20, 0x7ffffff0), (8, 0xfffffff0), (16, 0xfffffff0), (4, 0xfffffff0) })
        {
            var d = (byte[])blob.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(field), value);
            Assert.Equal(FuzzCheck.Outcome.Rejected, FuzzCheck.Run(ObjectFuzzTargets.Btf, d, $"BTF header word {field} = 0x{value:x}", SmallAllocationLimit));
        }
    }

    [Fact]
    public void BtfRecordClaimingHugeVlenIsRefusedBeforeAllocating()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4);
        b.AddStruct("S", 4, new BtfBuilder.Member("a", i32, 0));
        var blob = b.Build();
        // The struct's info word: vlen 0xffff with only one member's bytes present.
        int info = 24 + 16 + 4;
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(info), (4u << 24) | 0xffff);
        Assert.Equal(FuzzCheck.Outcome.Rejected, FuzzCheck.Run(ObjectFuzzTargets.Btf, blob, "vlen 0xffff", SmallAllocationLimit));
    }

    [Fact]
    public void ElfHeaderClaimingHugeTablesIsRefusedBeforeAllocating()
    {
        var small = File.ReadAllBytes(TestEnvironment.Bpf("prog_array"));
        var cases = new List<(string, byte[])>();
        var d = (byte[])small.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(60), 0xffff);              // e_shnum
        cases.Add(("e_shnum 0xffff", d));
        d = (byte[])small.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(60), 0);                   // extended numbering ...
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(40));
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan((int)shoff + 32), 0x7fffffff); // ... section 0 claims 2^31-1 sections
        cases.Add(("extended e_shnum 2^31-1", d));
        d = (byte[])small.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(58), 0xffff);              // e_shentsize
        cases.Add(("e_shentsize 0xffff", d));
        foreach (var (what, bytes) in cases)
            Assert.Equal(FuzzCheck.Outcome.Rejected, FuzzCheck.Run(ObjectFuzzTargets.Object, bytes, what, SmallAllocationLimit));

        // Every section's size, one at a time, claiming 2^40 bytes.
        var elf = Ebpf.Elf.ElfFile.Parse(small);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(small.AsSpan(58));
        foreach (var s in elf.Sections)
        {
            if (s.Index == 0) continue;
            d = (byte[])small.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan((int)shoff + s.Index * shentsize + 32), 1UL << 40);
            FuzzCheck.Run(ObjectFuzzTargets.Object, d, $"section {s.Name} size 2^40", SmallAllocationLimit);
        }
    }

    [Fact]
    public void BtfExtClaimingHugeRecordCountsIsRefusedBeforeAllocating()
    {
        var host = Ebpf.Elf.ElfFile.Parse(File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, ObjectFuzzTargets.HostObject)));
        var ext = host.FindSection(".BTF.ext")!.Data.ToArray();
        uint hdr = BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(4));
        // Each sub-section (func_info, line_info, core_relo): its first section's record count set to 2^32-1 and 2^28.
        foreach (int offField in new[] { 8, 16, 24 })
        {
            uint off = BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(offField));
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(ext.AsSpan(offField + 4));
            if (len == 0) continue;
            int numAt = (int)(hdr + off + 4 + 4);
            foreach (uint n in new[] { 0xffffffffu, 1u << 28 })
            {
                var d = (byte[])ext.Clone();
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(numAt), n);
                Assert.Equal(FuzzCheck.Outcome.Rejected, FuzzCheck.Run(ObjectFuzzTargets.BtfExt, d, $"BTF.ext sub-section at {offField}: {n} records", SmallAllocationLimit));
            }
        }
    }
}
