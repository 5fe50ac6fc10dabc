using Ebpf.Btf;

namespace Ebpf.Objects.Tests.Btf;

/// <summary>Hand-built BTF that exercises every kind and the corners of the dump formats.</summary>
internal static class SyntheticBtf
{
    /// <summary>Every kind, every encoding/linkage/signedness variant bpftool prints differently.</summary>
    public static byte[] AllKinds()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);                         // 1
        int u32 = b.AddInt("unsigned int", 4);                                       // 2
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed | BtfIntEncoding.Char);  // 3 (SIGNED|CHAR: UNKN)
        int bol = b.AddInt("_Bool", 1, BtfIntEncoding.Bool);                         // 4
        b.AddInt("odd", 4, BtfIntEncoding.Char, bits: 5, bitOffset: 2);              // 5
        int vptr = b.AddPointer(0);                                                  // 6
        int cst = b.AddConst(i32);                                                   // 7
        b.AddVolatile(cst);                                                          // 8
        b.AddRestrict(vptr);                                                         // 9
        int arr = b.AddArray(chr, u32, 16);                                          // 10
        int task = b.AddStruct("task_struct", 40,                                    // 11
            new BtfBuilder.Member("pid", i32, 0),
            new BtfBuilder.Member("flags", u32, 32, 3),
            new BtfBuilder.Member("ready", bol, 35, 1),
            new BtfBuilder.Member("comm", arr, 64),
            new BtfBuilder.Member("", u32, 192));
        b.AddComposite(BtfKind.Union, "", 8, new[]                                   // 12 (no kind_flag)
        {
            new BtfBuilder.Member("p", vptr, 0),
            new BtfBuilder.Member("naïve", u32, 0),
        }, kindFlag: false);
        b.AddEnum("state", 4, false, ("RUNNING", 0), ("MAX", unchecked((int)0xffffffffu)));   // 13
        b.AddEnum("sval", 4, true, ("NEG", -1), ("POS", 7), ("MIN", int.MinValue));            // 14
        b.AddEnum("empty_enum", 4, false);                                           // 15
        b.AddEnum64("big", 8, false, ("HUGE", 0xfffffffffffffff0UL), ("ONE", 1));    // 16
        b.AddEnum64("sbig", 8, true, ("NEG", unchecked((ulong)-5L)), ("MIN", unchecked((ulong)long.MinValue))); // 17
        b.AddFwd("sock");                                                            // 18
        b.AddFwd("bpf_attr", isUnion: true);                                         // 19
        b.AddTypedef("pid_t", i32);                                                  // 20
        int proto = b.AddFuncProto(i32, ("ctx", vptr), ("n", u32));                  // 21
        b.AddFunc("prog", proto, BtfFuncLinkage.Global);                             // 22
        b.AddFunc("helper", proto, BtfFuncLinkage.Static);                           // 23
        b.AddFunc("ext", proto, BtfFuncLinkage.Extern);                              // 24
        int varargs = b.AddFuncProto(0, ("fmt", vptr), ("", 0));                     // 25
        b.AddFunc("printk", varargs, BtfFuncLinkage.Extern);                         // 26
        b.AddFuncProto(0);                                                           // 27
        int v1 = b.AddVar("counter", u32, BtfVarLinkage.GlobalAllocated);            // 28
        int v2 = b.AddVar("local", i32, BtfVarLinkage.Static);                       // 29
        int v3 = b.AddVar("CONFIG_HZ", i32, BtfVarLinkage.GlobalExtern);             // 30
        b.AddDatasec(".bss", 8, (v1, 0u, 4u), (v2, 4u, 4u));                         // 31
        b.AddDatasec(".kconfig", 4, (v3, 0u, 4u));                                   // 32
        b.AddFloat("double", 8);                                                     // 33
        b.AddDeclTag("bpf_kfunc", 22);                                               // 34
        b.AddDeclTag("user", task, 1);                                               // 35
        b.AddTypeTag("percpu", i32);                                                 // 36
        b.AddDatasec(".ksyms", 0, (23, 0u, 0u));                                     // 37
        return b.Build();
    }
}

/// <summary>BTF shaped to exercise the C generator: cycles, anonymous nesting, bitfields, padding, name clashes.</summary>
internal static class SyntheticCBtf
{
    public static byte[] Build()
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int u8 = b.AddInt("unsigned char", 1);
        int i16 = b.AddInt("short int", 2, BtfIntEncoding.Signed);
        int i64 = b.AddInt("long int", 8, BtfIntEncoding.Signed);
        int u64 = b.AddInt("long unsigned int", 8);
        int boolean = b.AddInt("_Bool", 1, BtfIntEncoding.Bool);
        int dbl = b.AddFloat("double", 8);
        int vptr = b.AddPointer(0);
        int idx = b.AddInt("__ARRAY_SIZE_TYPE__", 4);

        // struct A and struct B refer to each other: B holds pointers to both, A embeds B.
        int fwdA = b.AddFwd("A");
        int fwdAPtr = b.AddPointer(fwdA);
        int structB = b.NextTypeId;
        int structBPtr = structB + 1;
        b.AddStruct("B", 16, new BtfBuilder.Member("a", fwdAPtr, 0), new BtfBuilder.Member("self", structBPtr, 64));
        b.AddPointer(structB);
        b.AddStruct("A", 24, new BtfBuilder.Member("b", structB, 0), new BtfBuilder.Member("x", i32, 128));

        // Packed: an int at byte offset 1.
        b.AddStruct("packed_s", 5, new BtfBuilder.Member("c", chr, 0), new BtfBuilder.Member("i", i32, 8));
        // Natural layout with a hole and trailing padding beyond natural alignment.
        b.AddStruct("holes", 32, new BtfBuilder.Member("c", chr, 0), new BtfBuilder.Member("l", i64, 64), new BtfBuilder.Member("s", i16, 128));
        b.AddStruct("tail_pad", 16, new BtfBuilder.Member("a", i32, 0));
        // Bitfields with gaps, and a bitfield after a hole.
        b.AddStruct("bits", 16,
            new BtfBuilder.Member("a", u32, 0, 3),
            new BtfBuilder.Member("b", u32, 3, 5),
            new BtfBuilder.Member("c", u32, 32, 1),
            new BtfBuilder.Member("d", u8, 40, 2),
            new BtfBuilder.Member("e", u64, 64, 33));
        // Empty struct.
        b.AddStruct("empty", 0);

        // Anonymous union holding an anonymous struct, embedded in a named struct.
        int anonStruct = b.AddStruct("", 8, new BtfBuilder.Member("lo", u32, 0), new BtfBuilder.Member("hi", u32, 32));
        int anonUnion = b.AddUnion("", 8, new BtfBuilder.Member("", anonStruct, 0), new BtfBuilder.Member("whole", u64, 0));
        b.AddStruct("nested", 16, new BtfBuilder.Member("kind", i32, 0), new BtfBuilder.Member("", anonUnion, 64));

        // Function pointers: typedef of a pointer to function, array of function pointers, vararg, no-arg.
        int proto = b.AddFuncProto(i32, ("ctx", vptr), ("n", i32));
        int protoPtr = b.AddPointer(proto);
        b.AddTypedef("handler_t", protoPtr);
        int varProto = b.AddFuncProto(i32, ("fmt", b.AddPointer(b.AddConst(chr))), ("", 0));
        int varPtr = b.AddPointer(varProto);
        int fnArr = b.AddArray(varPtr, idx, 4);
        int voidProto = b.AddFuncProto(0);
        int voidPtr = b.AddPointer(voidProto);
        int arr10 = b.AddArray(i32, idx, 10);
        int ptrToArr = b.AddPointer(arr10);
        int arr3 = b.AddArray(i32, idx, 3);
        int arr2x3 = b.AddArray(arr3, idx, 2);
        int cvp = b.AddVolatile(b.AddConst(b.AddPointer(b.AddConst(chr))));
        int tagged = b.AddPointer(b.AddTypeTag("user", i32));
        b.AddStruct("ops", 112,
            new BtfBuilder.Member("fns", fnArr, 0),
            new BtfBuilder.Member("init", voidPtr, 256),
            new BtfBuilder.Member("pa", ptrToArr, 320),
            new BtfBuilder.Member("m", arr2x3, 384),
            new BtfBuilder.Member("name", cvp, 576),
            new BtfBuilder.Member("uptr", tagged, 640),
            new BtfBuilder.Member("ratio", dbl, 704),
            new BtfBuilder.Member("ok", boolean, 768));
        b.AddTypedef("fn_t", proto);

        // Name clashes: two structs "dup", two enums with the same enumerator.
        b.AddStruct("dup", 4, new BtfBuilder.Member("x", i32, 0));
        b.AddStruct("dup", 8, new BtfBuilder.Member("y", i64, 0));
        b.AddEnum("e1", 4, false, ("CLASH", 1), ("ONLY1", 2));
        b.AddEnum("e2", 4, false, ("CLASH", 3));
        b.AddEnum("sgn", 4, true, ("NEG", -1), ("ZERO", 0));
        b.AddEnum64("e64", 8, false, ("BIG", 0x100000000UL), ("SMALL", 1));
        b.AddEnum64("s64", 8, true, ("MINUS", unchecked((ulong)-2L)));
        b.AddEnum64("w64", 8, false, ("A64", 1));
        b.AddEnum("wide", 8, false, ("W", 1));
        b.AddEnum("", 4, false, ("TOP_LEVEL_CONST", 5));
        b.AddStruct("uses_enums", 16,
            new BtfBuilder.Member("w", b.NextTypeId - 2, 0),
            new BtfBuilder.Member("s", b.AddEnum("", 4, true, ("INLINE_NEG", -3)), 64));
        int anonTd = b.AddStruct("", 4, new BtfBuilder.Member("v", i32, 0));
        b.AddTypedef("anon_t", anonTd);
        b.AddFwd("opaque_u", isUnion: true);
        b.AddStruct("has_fwd", 8, new BtfBuilder.Member("u", b.AddPointer(b.NextTypeId - 1), 0));
        int builtin = b.AddStruct("__va_list_tag", 24, new BtfBuilder.Member("gp", u32, 0));
        b.AddTypedef("__builtin_va_list", b.AddArray(builtin, idx, 1));
        int v = b.AddVar("global_var", i32);
        b.AddDatasec(".data", 4, (v, 0u, 4u));
        b.AddFunc("prog", proto, BtfFuncLinkage.Global);
        return b.Build();
    }
}
