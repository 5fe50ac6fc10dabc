using System;
using Ebpf.Asm;

namespace Ebpf.Core;

/// <summary>What patching did to the instruction.</summary>
internal enum CorePatchOutcome
{
    /// <summary>The relocatable field now holds the target value (possibly unchanged).</summary>
    Patched,
    /// <summary>The instruction (both slots of an ld_imm64) was replaced by "call 0xbad2310".</summary>
    Poisoned,
}

/// <summary>
/// Applies a <see cref="CoreResolution"/> to an instruction: libbpf's bpf_core_patch_insn and bpf_core_poison_insn.
/// </summary>
/// <remarks>
/// Supported instructions: ALU/ALU64 with an immediate operand (imm), LDX/ST/STX (off, and the memory size of the
/// access when the field size changed, keeping the mode, so sign-extending LDSX stays LDSX), and ld_imm64 (the
/// 64-bit immediate across both slots). ST's immediate operand is never relocated, only its offset. Before patching,
/// the instruction must hold the local value unless the resolution says not to validate.
/// </remarks>
internal static class CorePatcher
{
    /// <summary>Replaces an instruction with libbpf's poison marker: call 0xbad2310.</summary>
    public static void Poison(BpfInstruction[] insns, int index)
    {
        if (insns is null) throw new ArgumentNullException(nameof(insns));
        // The second slot of an ld_imm64 is poisoned too, so that the verifier does not complain about opcode 00.
        if (insns[index].IsLoadImm64 && index + 1 < insns.Length)
            insns[index + 1] = BpfInstruction.Poison;
        insns[index] = BpfInstruction.Poison;
    }

    /// <summary>
    /// Patches <paramref name="insns"/>[<paramref name="index"/>] with the resolution.
    /// </summary>
    /// <param name="insns">The instructions; the one at <paramref name="index"/> (and its second slot for ld_imm64) is rewritten.</param>
    /// <param name="index">Index of the instruction to patch.</param>
    /// <param name="res">The relocation's resolution (values, memory sizes, poisoning).</param>
    /// <param name="reportedIndex">The instruction number to print in messages (libbpf prints program-relative indices); defaults to <paramref name="index"/>.</param>
    /// <param name="poisonReason">Why the instruction was poisoned during patching (a load/store that cannot be resized), else null.</param>
    /// <exception cref="BpfCoreRelocationException">The instruction cannot be patched (libbpf fails the load).</exception>
    public static CorePatchOutcome Patch(BpfInstruction[] insns, int index, CoreResolution res, out string? poisonReason, int reportedIndex = -1)
    {
        if (insns is null) throw new ArgumentNullException(nameof(insns));
        if (res is null) throw new ArgumentNullException(nameof(res));
        if ((uint)index >= (uint)insns.Length)
            throw new BpfCoreRelocationException(CoreErrorKind.InstructionOutOfRange, BpfCoreRelocationException.EINVAL,
                $"instruction #{index} is outside the {insns.Length} instructions");
        int n = reportedIndex >= 0 ? reportedIndex : index;
        poisonReason = null;
        ref var insn = ref insns[index];

        if (res.Poison)
        {
            Poison(insns, index);
            return CorePatchOutcome.Poisoned;
        }

        ulong orig = res.LocalValue, nv = res.TargetValue;
        switch (insn.Class)
        {
            case BpfOpCodes.ClassAlu:
            case BpfOpCodes.ClassAlu64:
                if (insn.Source != BpfOpCodes.SourceK)
                    throw new BpfCoreRelocationException(CoreErrorKind.UnexpectedInstruction, BpfCoreRelocationException.EINVAL,
                        $"insn #{n} (ALU/ALU64) has a register operand, not an immediate");
                if (res.Validate && unchecked((ulong)(long)insn.Immediate) != orig)
                    throw new BpfCoreRelocationException(CoreErrorKind.InstructionValueMismatch, BpfCoreRelocationException.EINVAL,
                        $"unexpected insn #{n} (ALU/ALU64) value: got {unchecked((uint)insn.Immediate)}, exp {orig} -> {nv}");
                insn.Immediate = unchecked((int)nv);
                return CorePatchOutcome.Patched;

            case BpfOpCodes.ClassLdx:
            case BpfOpCodes.ClassSt:
            case BpfOpCodes.ClassStx:
            {
                if (res.Validate && unchecked((ulong)(long)insn.Offset) != orig)
                    throw new BpfCoreRelocationException(CoreErrorKind.InstructionValueMismatch, BpfCoreRelocationException.EINVAL,
                        $"unexpected insn #{n} (LDX/ST/STX) value: got {unchecked((uint)insn.Offset)}, exp {orig} -> {nv}");
                if (nv > (ulong)short.MaxValue)
                    throw new BpfCoreRelocationException(CoreErrorKind.OffsetOutOfRange, BpfCoreRelocationException.ERANGE,
                        $"insn #{n} (LDX/ST/STX) value too big: {nv}");
                if (res.FailMemorySizeAdjust)
                {
                    poisonReason = $"insn #{n} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size.";
                    Poison(insns, index);
                    return CorePatchOutcome.Poisoned;
                }
                int newCode = insn.OpCode;
                if (res.TargetSize != res.LocalSize)
                {
                    int bytes = SizeToBytes(insn.Size);
                    if (bytes != res.LocalSize)
                        throw new BpfCoreRelocationException(CoreErrorKind.MemorySizeMismatch, BpfCoreRelocationException.EINVAL,
                            $"insn #{n} (LDX/ST/STX) unexpected mem size: got {bytes}, exp {res.LocalSize}");
                    int size = BytesToSize(res.TargetSize);
                    if (size < 0)
                        throw new BpfCoreRelocationException(CoreErrorKind.MemorySizeMismatch, BpfCoreRelocationException.EINVAL,
                            $"insn #{n} (LDX/ST/STX) invalid new mem size: {res.TargetSize}");
                    newCode = insn.Mode | size | insn.Class;
                }
                insn.Offset = unchecked((short)nv);
                insn.OpCode = (byte)newCode;
                return CorePatchOutcome.Patched;
            }

            case BpfOpCodes.ClassLd:
            {
                if (!insn.IsLoadImm64 || insn.Src != 0 || insn.Offset != 0 || index + 1 >= insns.Length
                    || insns[index + 1].OpCode != 0 || insns[index + 1].Dst != 0 || insns[index + 1].Src != 0 || insns[index + 1].Offset != 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.UnexpectedInstruction, BpfCoreRelocationException.EINVAL,
                        $"insn #{n} (LDIMM64) has unexpected form");
                ulong imm = unchecked((uint)insn.Immediate | ((ulong)(uint)insns[index + 1].Immediate << 32));
                if (res.Validate && imm != orig)
                    throw new BpfCoreRelocationException(CoreErrorKind.InstructionValueMismatch, BpfCoreRelocationException.EINVAL,
                        $"unexpected insn #{n} (LDIMM64) value: got {imm}, exp {orig} -> {nv}");
                insn.Immediate = unchecked((int)nv);
                insns[index + 1].Immediate = unchecked((int)(nv >> 32));
                return CorePatchOutcome.Patched;
            }

            default:
                throw new BpfCoreRelocationException(CoreErrorKind.UnexpectedInstruction, BpfCoreRelocationException.EINVAL,
                    $"trying to relocate unrecognized insn #{n}, code:0x{insn.OpCode:x}, src:0x{insn.Src:x}, dst:0x{insn.Dst:x}, off:0x{unchecked((ushort)insn.Offset):x}, imm:0x{insn.Immediate:x}");
        }
    }

    private static int SizeToBytes(byte size) => size switch
    {
        BpfOpCodes.SizeDW => 8,
        BpfOpCodes.SizeW => 4,
        BpfOpCodes.SizeH => 2,
        BpfOpCodes.SizeB => 1,
        _ => -1,
    };

    private static int BytesToSize(uint bytes) => bytes switch
    {
        8 => BpfOpCodes.SizeDW,
        4 => BpfOpCodes.SizeW,
        2 => BpfOpCodes.SizeH,
        1 => BpfOpCodes.SizeB,
        _ => -1,
    };
}
