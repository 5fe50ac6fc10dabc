using System.Collections.Generic;
using Ebpf.Btf;

namespace Ebpf.Cli.Tests;

/// <summary>Small BTF blobs for the CLI tests.</summary>
internal static class TestBtf
{
    /// <summary>A task_struct with comm at <paramref name="commOffset"/>, plus a few other kinds.</summary>
    public static byte[] Kernel(uint commOffset, bool withExtra = false)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int u32 = b.AddInt("unsigned int", 4);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int arr = b.AddArray(chr, u32, 16);
        var members = new List<BtfBuilder.Member>
        {
            new BtfBuilder.Member("pid", i32, 0),
            new BtfBuilder.Member("flags", u32, 32, 3),
        };
        if (withExtra)
            members.Add(new BtfBuilder.Member("extra", u32, (commOffset - 4) * 8));
        members.Add(new BtfBuilder.Member("comm", arr, commOffset * 8));
        int task = b.AddComposite(BtfKind.Struct, "task_struct", (int)commOffset + 16, members, null);
        b.AddPointer(task);
        b.AddTypedef("pid_t", i32);
        b.AddEnum("state", 4, false, ("RUNNING", 0), ("STOPPED", 4));
        return b.Build();
    }
}
