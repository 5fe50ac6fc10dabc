using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ebpf;

/// <summary>
/// The argument specs of a SystemTap SDT note ("SIZE@LOCATION ..."), decoded into the locations libbpf's usdt.bpf.h
/// reads: a constant, a register of the probed task's saved user registers (an offset into the architecture's
/// user-visible <c>pt_regs</c>), or memory at a register plus an offset. The location syntax is the assembler's of the
/// probed binary's architecture, so the decoder is chosen by the binary's ELF machine, not by this process:
/// x86-64 (AT&amp;T: <c>-4@%edi</c>, <c>8@-16(%rbp)</c>, <c>4@$5</c>) and arm64 (<c>-4@x1</c>, <c>8@[sp, 16]</c>,
/// <c>-4@[x29]</c>, <c>4@5</c>). Semantics follow libbpf's usdt.c parsers of the same architectures.
/// </summary>
internal abstract class UsdtArguments
{
    /// <summary>EM_X86_64 and EM_AARCH64.</summary>
    internal const ushort MachineX86_64 = 62, MachineAArch64 = 183;

    /// <summary>usdt.bpf.h's BPF_USDT_MAX_ARG_CNT.</summary>
    internal const int MaxArguments = 12;

    private static readonly UsdtArguments s_x86_64 = new X86_64Arguments();
    private static readonly UsdtArguments s_arm64 = new Arm64Arguments();

    /// <summary>The decoder for binaries of ELF machine <paramref name="machine"/>.</summary>
    public static UsdtArguments For(ushort machine, string binary) => machine switch
    {
        MachineX86_64 => s_x86_64,
        MachineAArch64 => s_arm64,
        _ => throw new BpfException($"'{binary}' is an ELF binary for machine {machine}: USDT argument specs are decoded for x86-64 ({MachineX86_64}) and arm64 ({MachineAArch64}) binaries"),
    };

    /// <summary>The architecture's name, for messages.</summary>
    public abstract string Architecture { get; }

    /// <summary>Decodes a note's whole argument string; <paramref name="probe"/> ("provider:name") names it in errors.</summary>
    public UsdtArgSpec[] Parse(string args, string probe)
    {
        var list = new List<UsdtArgSpec>();
        foreach (string raw in Split(args, probe))
        {
            if (list.Count == MaxArguments)
                throw new BpfException($"USDT probe {probe} has more than {MaxArguments} arguments ('{args}'); usdt.bpf.h supports {MaxArguments}");
            int at = raw.IndexOf('@');
            if (at <= 0 || !int.TryParse(raw.AsSpan(0, at), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int size))
                throw new BpfException($"USDT probe {probe}: argument '{raw}' is not of the form SIZE@LOCATION");
            int abs = Math.Abs(size);
            if (abs != 1 && abs != 2 && abs != 4 && abs != 8)
                throw new BpfException($"USDT probe {probe}: argument '{raw}' has size {abs}; only 1, 2, 4 and 8 are possible");
            var spec = new UsdtArgSpec { Signed = size < 0, BitShift = (byte)(64 - abs * 8) };
            ParseLocation(raw.Substring(at + 1), ref spec, raw, probe);
            list.Add(spec);
        }
        return list.ToArray();
    }

    /// <summary>Fills the kind, register and value or offset of one argument from its LOCATION.</summary>
    protected abstract void ParseLocation(string location, ref UsdtArgSpec spec, string raw, string probe);

    /// <summary>Arguments are separated by blanks, except inside brackets (arm64 memory operands: "[sp, 16]").</summary>
    private static List<string> Split(string args, string probe)
    {
        var result = new List<string>();
        int depth = 0, start = -1;
        for (int i = 0; i <= args.Length; i++)
        {
            char c = i < args.Length ? args[i] : ' ';
            if (c == '[') depth++;
            else if (c == ']' && --depth < 0) break;
            bool blank = c == ' ' || c == '\t';
            if (blank && depth == 0)
            {
                if (start >= 0) result.Add(args.Substring(start, i - start));
                start = -1;
            }
            else if (start < 0)
            {
                start = i;
            }
        }
        if (depth != 0)
            throw new BpfException($"USDT probe {probe}: unbalanced brackets in the argument specs '{args}'");
        return result;
    }

    /// <summary>A signed decimal or 0x-hexadecimal number, as the assemblers print offsets and immediates.</summary>
    protected static long ParseLong(string s, string raw, string probe)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        if (neg || s.StartsWith('+')) s = s.Substring(1);
        ulong v;
        bool ok = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok) throw new BpfException($"USDT probe {probe}: cannot read the number '{s}' in argument '{raw}'");
        return neg ? -(long)v : (long)v;
    }

    /// <summary>x86-64, AT&amp;T syntax: <c>$imm</c>, <c>%reg</c>, <c>off(%reg)</c>; registers of every width.</summary>
    private sealed class X86_64Arguments : UsdtArguments
    {
        public override string Architecture => "x86-64";

        protected override void ParseLocation(string loc, ref UsdtArgSpec spec, string raw, string probe)
        {
            if (loc.StartsWith('$'))
            {
                spec.Type = UsdtArgSpec.Constant;
                spec.ValueOrOffset = (ulong)ParseLong(loc.Substring(1), raw, probe);
            }
            else if (loc.StartsWith('%'))
            {
                spec.Type = UsdtArgSpec.Register;
                spec.RegisterOffset = RegisterOffset(loc.Substring(1), raw, probe);
            }
            else
            {
                int open = loc.IndexOf('(');
                int close = loc.IndexOf(')');
                if (open < 0 || close < open || close != loc.Length - 1 || loc.IndexOf(',') >= 0)
                    throw new BpfException($"USDT probe {probe}: x86-64 argument location '{raw}' is not supported (only constants, registers and register+offset memory)");
                spec.Type = UsdtArgSpec.RegisterDeref;
                spec.ValueOrOffset = open == 0 ? 0 : (ulong)ParseLong(loc.Substring(0, open), raw, probe);
                string reg = loc.Substring(open + 1, close - open - 1);
                if (!reg.StartsWith('%')) throw new BpfException($"USDT probe {probe}: argument '{raw}' has no register");
                spec.RegisterOffset = RegisterOffset(reg.Substring(1), raw, probe);
            }
        }

        /// <summary>offsetof(struct pt_regs, reg) on x86-64, for every name of every width of the register.</summary>
        private static short RegisterOffset(string reg, string raw, string probe)
        {
            switch (reg)
            {
                case "r15": case "r15d": case "r15w": case "r15b": return 0;
                case "r14": case "r14d": case "r14w": case "r14b": return 8;
                case "r13": case "r13d": case "r13w": case "r13b": return 16;
                case "r12": case "r12d": case "r12w": case "r12b": return 24;
                case "rbp": case "ebp": case "bp": case "bpl": return 32;
                case "rbx": case "ebx": case "bx": case "bl": return 40;
                case "r11": case "r11d": case "r11w": case "r11b": return 48;
                case "r10": case "r10d": case "r10w": case "r10b": return 56;
                case "r9": case "r9d": case "r9w": case "r9b": return 64;
                case "r8": case "r8d": case "r8w": case "r8b": return 72;
                case "rax": case "eax": case "ax": case "al": return 80;
                case "rcx": case "ecx": case "cx": case "cl": return 88;
                case "rdx": case "edx": case "dx": case "dl": return 96;
                case "rsi": case "esi": case "si": case "sil": return 104;
                case "rdi": case "edi": case "di": case "dil": return 112;
                case "rip": return 128;
                case "rsp": case "esp": case "sp": case "spl": return 152;
                default: throw new BpfException($"USDT probe {probe}: unknown x86-64 register '%{reg}' in argument '{raw}'");
            }
        }
    }

    /// <summary>
    /// arm64 (AArch64) syntax: <c>imm</c>, <c>xN</c>/<c>sp</c>, <c>[reg]</c>, <c>[reg, off]</c>. Offsets are into the
    /// kernel's <c>struct user_pt_regs</c> (<c>regs[31]</c>, <c>sp</c>, <c>pc</c>, <c>pstate</c>), the start of arm64's
    /// <c>struct pt_regs</c>. As in libbpf, only the 64-bit register names are accepted: the compilers print those
    /// for SDT operands whatever the argument's size, which SIZE gives.
    /// </summary>
    private sealed class Arm64Arguments : UsdtArguments
    {
        public override string Architecture => "arm64";

        protected override void ParseLocation(string loc, ref UsdtArgSpec spec, string raw, string probe)
        {
            if (loc.StartsWith('['))
            {
                if (!loc.EndsWith(']'))
                    throw new BpfException($"USDT probe {probe}: arm64 argument location '{raw}' is not supported (only constants, registers and [register] or [register, offset] memory)");
                string inner = loc.Substring(1, loc.Length - 2);
                int comma = inner.IndexOf(',');
                spec.Type = UsdtArgSpec.RegisterDeref;
                spec.RegisterOffset = RegisterOffset((comma < 0 ? inner : inner.Substring(0, comma)).Trim(), raw, probe);
                spec.ValueOrOffset = comma < 0 ? 0 : (ulong)ParseLong(inner.Substring(comma + 1), raw, probe);
            }
            else if (loc.Length > 0 && (char.IsDigit(loc[0]) || loc[0] == '-' || loc[0] == '+'))
            {
                spec.Type = UsdtArgSpec.Constant;
                spec.ValueOrOffset = (ulong)ParseLong(loc, raw, probe);
            }
            else
            {
                spec.Type = UsdtArgSpec.Register;
                spec.RegisterOffset = RegisterOffset(loc, raw, probe);
            }
        }

        /// <summary>offsetof(struct user_pt_regs, regs[N]) for xN (N 0..30), offsetof(..., sp) for sp.</summary>
        private static short RegisterOffset(string reg, string raw, string probe)
        {
            if (reg == "sp") return 31 * 8;
            if (reg.Length is >= 2 and <= 3 && reg[0] == 'x'
                && int.TryParse(reg.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n <= 30)
                return (short)(n * 8);
            string hint = reg.Length > 1 && reg[0] == 'w' ? " (32-bit register names are not used in SDT notes; libbpf rejects them too)" : "";
            throw new BpfException($"USDT probe {probe}: unknown arm64 register '{reg}' in argument '{raw}'{hint}");
        }
    }
}

/// <summary>One argument's location, as usdt.bpf.h's struct __bpf_usdt_arg_spec holds it.</summary>
internal struct UsdtArgSpec
{
    /// <summary>BPF_USDT_ARG_CONST, BPF_USDT_ARG_REG, BPF_USDT_ARG_REG_DEREF.</summary>
    public const int Constant = 0, Register = 1, RegisterDeref = 2;

    public ulong ValueOrOffset;
    public int Type;
    public short RegisterOffset;
    public bool Signed;
    public byte BitShift;
}
