using System;
using System.Collections.Generic;
using Ebpf.Asm;
using Ebpf.Btf;

namespace Ebpf.Objects;

/// <summary>A reference left in a linked program for the loader to fill in (map fds, extern values, kfunc ids).</summary>
internal readonly struct LinkedReference
{
    public LinkedReference(int instruction, InstructionReference reference, FunctionSpec function)
    {
        Instruction = instruction;
        Reference = reference;
        Function = function;
    }

    /// <summary>Index of the instruction within the linked program.</summary>
    public int Instruction { get; }
    public InstructionReference Reference { get; }
    /// <summary>The function the instruction came from.</summary>
    public FunctionSpec Function { get; }
    public InstructionReferenceKind Kind => Reference.Kind;
}

/// <summary>Where a function landed in a linked program.</summary>
internal readonly struct LinkedFunction
{
    public LinkedFunction(FunctionSpec function, int start)
    {
        Function = function;
        Start = start;
    }

    public FunctionSpec Function { get; }
    public int Start { get; }
}

/// <summary>One program with every subprogram it reaches appended, calls resolved, func_info/line_info rebased.</summary>
internal sealed class LinkedProgram
{
    internal LinkedProgram(ProgramSpec program, BpfInstruction[] instructions, IReadOnlyList<BtfFuncInfo> funcInfos, IReadOnlyList<BtfLineInfo> lineInfos,
        IReadOnlyList<LinkedReference> references, IReadOnlyList<LinkedFunction> layout)
    {
        Program = program;
        Instructions = instructions;
        FuncInfos = funcInfos;
        LineInfos = lineInfos;
        References = references;
        Layout = layout;
    }

    public ProgramSpec Program { get; }
    public BpfInstruction[] Instructions { get; }
    /// <summary>func_info with instruction offsets in instructions (as the kernel wants them).</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfos { get; }
    /// <summary>line_info with instruction offsets in instructions.</summary>
    public IReadOnlyList<BtfLineInfo> LineInfos { get; }
    /// <summary>Map, data, extern and kfunc references still to be filled in.</summary>
    public IReadOnlyList<LinkedReference> References { get; }
    /// <summary>The main function first, then subprograms in the order they were appended.</summary>
    public IReadOnlyList<LinkedFunction> Layout { get; }
}

/// <summary>
/// Appends the subprograms a program calls (bpf-to-bpf calls and callbacks) after it, the way libbpf does:
/// depth first, each subprogram once per program, in the order of first reference; then fixes the call offsets.
/// Pure: the instructions given (for instance after CO-RE relocation) are copied, not changed.
/// </summary>
internal static class ProgramLinker
{
    /// <summary>Links <paramref name="program"/>: its instructions followed by every subprogram it reaches.</summary>
    /// <param name="spec">The object the program and its subprograms come from.</param>
    /// <param name="program">The program to link.</param>
    /// <param name="instructionsOf">Instructions to use for a function (e.g. CO-RE relocated); defaults to the function's own.</param>
    public static LinkedProgram Link(BpfObjectSpec spec, ProgramSpec program, Func<FunctionSpec, BpfInstruction[]>? instructionsOf = null)
    {
        var getInsns = instructionsOf ?? (f => f.Instructions);
        var output = new List<BpfInstruction>(program.Function.InstructionCount * 2);
        var starts = new Dictionary<FunctionSpec, int>();
        var layout = new List<LinkedFunction>();
        var refs = new List<LinkedReference>();

        void Append(FunctionSpec fn)
        {
            var insns = getInsns(fn);
            if (insns.Length != fn.InstructionCount)
                throw new ArgumentException($"instructions given for '{fn.Name}' have {insns.Length} entries, expected {fn.InstructionCount}");
            starts[fn] = output.Count;
            layout.Add(new LinkedFunction(fn, output.Count));
            output.AddRange(insns);
        }

        void Process(FunctionSpec fn, int depth)
        {
            if (depth > 64)
                throw new BpfObjectFormatException($"prog '{program.Name}': subprogram calls nest deeper than 64 levels");
            int start = starts[fn];
            foreach (var r in fn.References)
            {
                int at = start + r.Instruction;
                switch (r.Kind)
                {
                    case InstructionReferenceKind.Call:
                    case InstructionReferenceKind.FunctionAddress:
                    {
                        var target = spec.FindFunction(r.TargetSectionIndex, r.TargetInstruction)
                            ?? throw new BpfObjectFormatException($"prog '{program.Name}': {r.Kind} at insn #{r.Instruction} of '{fn.Name}' targets no function");
                        if (!starts.ContainsKey(target))
                        {
                            Append(target);
                            Process(target, depth + 1);
                        }
                        int dest = starts[target] + (r.TargetInstruction - target.SectionInstruction);
                        var insn = output[at];
                        insn.Immediate = dest - at - 1;
                        if (r.Kind == InstructionReferenceKind.Call)
                        {
                            insn.Src = BpfOpCodes.PseudoCall;
                        }
                        else
                        {
                            insn.Src = BpfOpCodes.PseudoFunc;
                            var hi = output[at + 1];
                            hi.Immediate = 0;
                            output[at + 1] = hi;
                        }
                        output[at] = insn;
                        break;
                    }
                    default:
                        refs.Add(new LinkedReference(at, r, fn));
                        break;
                }
            }
        }

        Append(program.Function);
        Process(program.Function, 0);

        var funcInfos = new List<BtfFuncInfo>();
        var lineInfos = new List<BtfLineInfo>();
        foreach (var lf in layout)
        {
            foreach (var fi in lf.Function.FuncInfos)
                funcInfos.Add(new BtfFuncInfo((uint)(lf.Start + fi.InstructionOffset), fi.TypeId));
            foreach (var li in lf.Function.LineInfos)
                lineInfos.Add(new BtfLineInfo((uint)(lf.Start + li.InstructionOffset), li.FileNameOffset, li.LineOffset, li.LineCol));
        }
        refs.Sort((a, b) => a.Instruction.CompareTo(b.Instruction));
        return new LinkedProgram(program, output.ToArray(), funcInfos, lineInfos, refs, layout);
    }
}
