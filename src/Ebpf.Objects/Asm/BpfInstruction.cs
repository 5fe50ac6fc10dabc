using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Ebpf.Asm;

/// <summary>
/// One 8-byte eBPF instruction, laid out as the kernel's struct bpf_insn on a little-endian machine
/// (code, dst_reg:4 | src_reg:4, off, imm). A 64-bit immediate load (ld_imm64) occupies two consecutive slots.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
internal struct BpfInstruction : IEquatable<BpfInstruction>
{
    public byte OpCode;
    /// <summary>dst_reg in the low nibble, src_reg in the high nibble.</summary>
    public byte Registers;
    public short Offset;
    public int Immediate;

    public BpfInstruction(byte opCode, int dst, int src, short offset, int immediate)
    {
        OpCode = opCode;
        Registers = (byte)((dst & 0xf) | ((src & 0xf) << 4));
        Offset = offset;
        Immediate = immediate;
    }

    public int Dst
    {
        readonly get => Registers & 0xf;
        set => Registers = (byte)((Registers & 0xf0) | (value & 0xf));
    }

    public int Src
    {
        readonly get => Registers >> 4;
        set => Registers = (byte)((Registers & 0x0f) | ((value & 0xf) << 4));
    }

    public readonly byte Class => (byte)(OpCode & 0x07);
    public readonly byte Size => (byte)(OpCode & 0x18);
    public readonly byte Mode => (byte)(OpCode & 0xe0);
    public readonly byte Op => (byte)(OpCode & 0xf0);
    public readonly byte Source => (byte)(OpCode & 0x08);

    /// <summary>True for the first slot of a 64-bit immediate load (BPF_LD | BPF_DW | BPF_IMM).</summary>
    public readonly bool IsLoadImm64 => OpCode == BpfOpCodes.LdImm64;

    /// <summary>A call to a BPF helper (src_reg 0), a bpf-to-bpf call (src_reg 1) or a kfunc (src_reg 2).</summary>
    public readonly bool IsCall => OpCode == (BpfOpCodes.ClassJmp | BpfOpCodes.OpCall);
    public readonly bool IsHelperCall => IsCall && Src == 0;
    public readonly bool IsSubprogramCall => IsCall && Src == BpfOpCodes.PseudoCall;
    public readonly bool IsKfuncCall => IsCall && Src == BpfOpCodes.PseudoKfuncCall;
    public readonly bool IsExit => OpCode == (BpfOpCodes.ClassJmp | BpfOpCodes.OpExit);

    /// <summary>A ld_imm64 loading a subprogram address (callback), src_reg BPF_PSEUDO_FUNC.</summary>
    public readonly bool IsFunctionAddressLoad => IsLoadImm64 && Src == BpfOpCodes.PseudoFunc;

    /// <summary>Instruction used by libbpf to poison an instruction whose CO-RE relocation failed: call 0xbad2310.</summary>
    public static BpfInstruction Poison => new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpCall, 0, 0, 0, BpfOpCodes.PoisonCallImmediate);

    public readonly bool IsPoison => IsCall && Src == 0 && Immediate == BpfOpCodes.PoisonCallImmediate;

    /// <summary>Reads one instruction from 8 bytes in the given byte order.</summary>
    public static BpfInstruction Read(ReadOnlySpan<byte> b, bool littleEndian)
    {
        if (littleEndian)
            return new BpfInstruction { OpCode = b[0], Registers = b[1], Offset = BinaryPrimitives.ReadInt16LittleEndian(b.Slice(2)), Immediate = BinaryPrimitives.ReadInt32LittleEndian(b.Slice(4)) };
        // Big-endian objects store dst_reg in the high nibble.
        byte regs = (byte)((b[1] >> 4) | (b[1] << 4));
        return new BpfInstruction { OpCode = b[0], Registers = regs, Offset = BinaryPrimitives.ReadInt16BigEndian(b.Slice(2)), Immediate = BinaryPrimitives.ReadInt32BigEndian(b.Slice(4)) };
    }

    /// <summary>Writes the instruction in little-endian kernel layout.</summary>
    public readonly void Write(Span<byte> b)
    {
        b[0] = OpCode;
        b[1] = Registers;
        BinaryPrimitives.WriteInt16LittleEndian(b.Slice(2), Offset);
        BinaryPrimitives.WriteInt32LittleEndian(b.Slice(4), Immediate);
    }

    /// <summary>Decodes an instruction stream (length must be a multiple of 8).</summary>
    public static BpfInstruction[] ReadAll(ReadOnlySpan<byte> data, bool littleEndian)
    {
        if (data.Length % 8 != 0)
            throw new ArgumentException($"instruction stream of {data.Length} bytes is not a multiple of 8", nameof(data));
        var result = new BpfInstruction[data.Length / 8];
        if (littleEndian && BitConverter.IsLittleEndian)
        {
            data.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
            return result;
        }
        for (int i = 0; i < result.Length; i++)
            result[i] = Read(data.Slice(i * 8, 8), littleEndian);
        return result;
    }

    public readonly bool Equals(BpfInstruction other) => OpCode == other.OpCode && Registers == other.Registers && Offset == other.Offset && Immediate == other.Immediate;
    public override readonly bool Equals(object? obj) => obj is BpfInstruction o && Equals(o);
    public override readonly int GetHashCode() => (OpCode | (Registers << 8) | (Offset << 16)) ^ Immediate;
    public static bool operator ==(BpfInstruction a, BpfInstruction b) => a.Equals(b);
    public static bool operator !=(BpfInstruction a, BpfInstruction b) => !a.Equals(b);

    public override readonly string ToString() => $"code=0x{OpCode:x2} dst=r{Dst} src=r{Src} off={Offset} imm={Immediate}";
}

/// <summary>eBPF opcode fields and pseudo source registers (include/uapi/linux/bpf.h, bpf_common.h).</summary>
internal static class BpfOpCodes
{
    // classes
    public const byte ClassLd = 0x00, ClassLdx = 0x01, ClassSt = 0x02, ClassStx = 0x03, ClassAlu = 0x04, ClassJmp = 0x05, ClassJmp32 = 0x06, ClassAlu64 = 0x07;
    // sizes
    public const byte SizeW = 0x00, SizeH = 0x08, SizeB = 0x10, SizeDW = 0x18;
    // modes
    public const byte ModeImm = 0x00, ModeAbs = 0x20, ModeInd = 0x40, ModeMem = 0x60, ModeMemSx = 0x80, ModeAtomic = 0xc0;
    // sources
    public const byte SourceK = 0x00, SourceX = 0x08;
    // alu ops
    public const byte OpAdd = 0x00, OpSub = 0x10, OpMul = 0x20, OpDiv = 0x30, OpOr = 0x40, OpAnd = 0x50, OpLsh = 0x60, OpRsh = 0x70,
        OpNeg = 0x80, OpMod = 0x90, OpXor = 0xa0, OpMov = 0xb0, OpArsh = 0xc0, OpEnd = 0xd0;
    // jmp ops
    public const byte OpJa = 0x00, OpJeq = 0x10, OpJgt = 0x20, OpJge = 0x30, OpJset = 0x40, OpJne = 0x50, OpJsgt = 0x60, OpJsge = 0x70,
        OpCall = 0x80, OpExit = 0x90, OpJlt = 0xa0, OpJle = 0xb0, OpJslt = 0xc0, OpJsle = 0xd0;

    public const byte LdImm64 = ClassLd | SizeDW | ModeImm;

    // src_reg of ld_imm64
    public const int PseudoMapFd = 1;
    public const int PseudoMapValue = 2;
    public const int PseudoBtfId = 3;
    public const int PseudoFunc = 4;
    public const int PseudoMapIdx = 5;
    public const int PseudoMapIdxValue = 6;

    // src_reg of call
    public const int PseudoCall = 1;
    public const int PseudoKfuncCall = 2;

    /// <summary>libbpf's marker for a failed CO-RE relocation: "call 0xbad2310" (195896080).</summary>
    public const int PoisonCallImmediate = 0xbad2310;
    /// <summary>libbpf's base for poisoning an ld_imm64 that refers to a map that was not created (+ map index).</summary>
    public const int PoisonLdImm64MapBase = 2001000000;
    /// <summary>libbpf's base for poisoning a call to an unresolved kfunc (+ extern index).</summary>
    public const int PoisonKfuncCallBase = 2002000000;
}
