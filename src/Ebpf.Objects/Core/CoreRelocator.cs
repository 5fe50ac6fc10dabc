using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Elf;

namespace Ebpf.Core;

/// <summary>What happened to one CO-RE relocation.</summary>
public enum CoreRelocationStatus
{
    /// <summary>Resolved and patched (the value may be unchanged, or 0 for a missing field/type/enumerator of an *_exists or type relocation).</summary>
    Applied,
    /// <summary>Unresolvable: the instruction was replaced by "call 0xbad2310" (fine if it is dead code).</summary>
    Poisoned,
    /// <summary>Not applied because no function contains the instruction (libbpf skips these: code of an eliminated __weak subprogram).</summary>
    Skipped,
    /// <summary>A fatal error: libbpf refuses the object. The instruction is left as it was.</summary>
    Failed,
}

/// <summary>One record of a section's .BTF.ext core_relo list, with its index in that list (libbpf's "relo #N").</summary>
internal readonly struct CoreRelocationRecord
{
    public CoreRelocationRecord(int recordIndex, BtfCoreRelo record)
    {
        RecordIndex = recordIndex;
        Record = record;
    }

    public int RecordIndex { get; }
    public BtfCoreRelo Record { get; }
}

/// <summary>The decision for one CO-RE relocation record.</summary>
public sealed class CoreRelocationResult
{
    internal CoreRelocationResult() { }

    /// <summary>ELF section of the instruction.</summary>
    public string Section { get; internal set; } = string.Empty;

    /// <summary>The function (STT_FUNC symbol) containing the instruction: libbpf's program name; null when none does.</summary>
    public string? Program { get; internal set; }

    /// <summary>Index of the record in its section's core_relo list: the "relo #N" of libbpf's log.</summary>
    public int RecordIndex { get; internal set; }

    /// <summary>Instruction index within the section.</summary>
    public int InstructionIndex { get; internal set; }

    /// <summary>Instruction index within the program (what libbpf prints as "insn #N"); null without a program.</summary>
    public int? ProgramInstructionIndex { get; internal set; }

    /// <summary>What the relocation computes (field offset, field exists, type size, enum value, ...).</summary>
    public CoreReloKind Kind { get; internal set; }

    /// <summary>The relocated type's id in the object's own BTF.</summary>
    public int LocalTypeId { get; internal set; }

    /// <summary>The local type as libbpf prints it: "struct task_struct___old", "typedef pid_t", "ptr &lt;anon&gt;".</summary>
    public string LocalTypeName { get; internal set; } = string.Empty;

    /// <summary>The access string of the record ("0:1:2").</summary>
    public string AccessString { get; internal set; } = string.Empty;

    /// <summary>The local spec as libbpf formats it ("&lt;byte_off&gt; [5] struct task_struct.comm (0:125 @ offset 1752)"), when it parsed.</summary>
    public string? LocalSpec { get; internal set; }

    /// <summary>The field path ("task_struct.comm", "signal_struct.rlim[7].rlim_cur"), when the spec parsed.</summary>
    public string? FieldPath { get; internal set; }

    /// <summary>The matched target spec as libbpf formats it, when a candidate matched.</summary>
    public string? TargetSpec { get; internal set; }

    /// <summary>The relocatable field of the original instruction: imm (ALU), off (LDX/ST/STX), the 64-bit immediate (ld_imm64), sign-extended.</summary>
    public long? OldValue { get; internal set; }

    /// <summary>The same field after patching; null when poisoned, skipped or failed.</summary>
    public long? NewValue { get; internal set; }

    /// <summary>The value computed from the local BTF (libbpf's orig_val), when resolution got that far.</summary>
    public ulong? LocalValue { get; internal set; }

    /// <summary>The value computed from the target (libbpf's new_val), when resolved and not poisoned.</summary>
    public ulong? TargetValue { get; internal set; }

    /// <summary>Memory access size in bytes of a LDX/ST/STX before patching.</summary>
    public int? OldMemorySize { get; internal set; }

    /// <summary>Memory access size in bytes of a LDX/ST/STX after patching.</summary>
    public int? NewMemorySize { get; internal set; }

    /// <summary>Applied, poisoned, skipped or failed.</summary>
    public CoreRelocationStatus Status { get; internal set; }

    /// <summary>True when the instruction was poisoned: the target lacks what it reads, and the verifier refuses the program if it reaches it.</summary>
    public bool Poisoned => Status == CoreRelocationStatus.Poisoned;

    /// <summary>True when libbpf would refuse the object because of this relocation.</summary>
    public bool IsFatal => Status == CoreRelocationStatus.Failed;

    /// <summary>
    /// What went wrong: for a poisoned relocation, which type/field/enumerator is missing from which target; for a
    /// failed one, the error. Null when applied (and for skipped records, <see cref="Note"/> says why).
    /// </summary>
    public string? Error { get; internal set; }

    /// <summary>The error kind of a failed relocation.</summary>
    public CoreErrorKind? ErrorKind { get; internal set; }

    /// <summary>The negative errno libbpf fails with for this relocation (-22 EINVAL, -7 E2BIG, -34 ERANGE, ...).</summary>
    public int? Errno { get; internal set; }

    /// <summary>Extra information: why a record was skipped, or why an *_exists/type relocation resolved to 0.</summary>
    public string? Note { get; internal set; }

    /// <summary>The target's label ("vmlinux 6.1.0-56-amd64").</summary>
    public string TargetLabel { get; internal set; } = string.Empty;

    /// <summary>The first matching target type id, if any.</summary>
    public int? TargetTypeId { get; internal set; }

    /// <summary>Where the matching type was found ("vmlinux" or a module name).</summary>
    public string? TargetSource { get; internal set; }

    /// <summary>The candidates considered (after pruning by earlier relocations of the same local type).</summary>
    internal IReadOnlyList<CoreCandidate> Candidates { get; set; } = Array.Empty<CoreCandidate>();

    /// <summary>The candidates that matched.</summary>
    internal IReadOnlyList<CoreCandidate> Matched { get; set; } = Array.Empty<CoreCandidate>();

    /// <summary>The full resolution (specs, sizes, validation flags), when resolution succeeded.</summary>
    internal CoreResolution? Resolution { get; set; }

    /// <summary>A one-line summary in the style of libbpf's log.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("sec '").Append(Section).Append("'");
        if (Program != null)
            sb.Append(" prog '").Append(Program).Append('\'');
        sb.Append(": relo #").Append(RecordIndex).Append(": <").Append(Kind.ToShortName()).Append("> ");
        sb.Append(FieldPath ?? LocalTypeName).Append(" (").Append(AccessString).Append(") insn #").Append(InstructionIndex).Append(": ");
        switch (Status)
        {
            case CoreRelocationStatus.Applied:
                sb.Append(OldValue).Append(" -> ").Append(NewValue);
                if (OldMemorySize != NewMemorySize)
                    sb.Append(" (mem size ").Append(OldMemorySize).Append(" -> ").Append(NewMemorySize).Append(')');
                break;
            case CoreRelocationStatus.Poisoned:
                sb.Append("poisoned: ").Append(Error);
                break;
            case CoreRelocationStatus.Skipped:
                sb.Append("skipped: ").Append(Note);
                break;
            default:
                sb.Append("error: ").Append(Error);
                break;
        }
        return sb.ToString();
    }
}

/// <summary>One executable section after CO-RE relocation.</summary>
internal sealed class CoreRelocatedSection
{
    internal CoreRelocatedSection(string name, int index, BpfInstruction[] instructions)
    {
        Name = name;
        Index = index;
        Instructions = instructions;
    }

    public string Name { get; }

    /// <summary>ELF section index.</summary>
    public int Index { get; }

    /// <summary>The section's instructions with every CO-RE relocation applied (a copy; the ELF data is untouched).</summary>
    public BpfInstruction[] Instructions { get; }
}

/// <summary>The result of relocating a whole object.</summary>
internal sealed class CoreRelocationReport
{
    internal CoreRelocationReport(string label, IReadOnlyList<CoreRelocatedSection> sections, IReadOnlyList<CoreRelocationResult> results)
    {
        TargetLabel = label;
        Sections = sections;
        Results = results;
    }

    public string TargetLabel { get; }

    /// <summary>Every executable section of the object, patched.</summary>
    public IReadOnlyList<CoreRelocatedSection> Sections { get; }

    /// <summary>One result per core_relo record, in .BTF.ext order (section by section, record by record).</summary>
    public IReadOnlyList<CoreRelocationResult> Results { get; }

    /// <summary>True when some relocation failed in a way that makes libbpf refuse the object.</summary>
    public bool HasFatalErrors
    {
        get
        {
            foreach (var r in Results)
                if (r.IsFatal) return true;
            return false;
        }
    }

    /// <summary>The patched instructions of a section, or null.</summary>
    public BpfInstruction[]? GetInstructions(string section)
    {
        foreach (var s in Sections)
            if (s.Name == section) return s.Instructions;
        return null;
    }

    /// <summary>Throws a <see cref="BpfCoreRelocationException"/> describing the first fatal error, if any.</summary>
    public void ThrowIfFatal()
    {
        foreach (var r in Results)
        {
            if (r.IsFatal)
                throw new BpfCoreRelocationException(r.ErrorKind ?? CoreErrorKind.InvalidRecord, r.Errno ?? BpfCoreRelocationException.EINVAL,
                    $"{(r.Program != null ? $"prog '{r.Program}'" : $"sec '{r.Section}'")}: relo #{r.RecordIndex}: {r.Error} (target {TargetLabel})")
                    .About(programName: r.Program, coreAccess: BpfCoreAccess.From(r));
        }
    }
}

/// <summary>
/// Applies CO-RE relocations: over a whole object (<see cref="RelocateObject(ElfFile, BtfSpec, BtfExt, CoreCandidateCache, CancellationToken)"/>)
/// or over one program's instructions (<see cref="Apply(BpfInstruction[], int, string, string?, IEnumerable{CoreRelocationRecord}, BtfSpec, CoreCandidateCache, CancellationToken)"/>), with libbpf's decisions.
/// </summary>
internal static class CoreRelocator
{
    /// <summary>Relocates every CO-RE record of an object against <paramref name="targets"/>.</summary>
    public static CoreRelocationReport RelocateObject(ElfFile elf, BtfSpec localBtf, BtfExt ext, CoreTargets targets, CancellationToken cancellationToken = default) =>
        RelocateObject(elf, localBtf, ext, new CoreCandidateCache(targets), cancellationToken);

    /// <summary>
    /// Relocates every CO-RE record of an object, in .BTF.ext order, on copies of its executable sections. A record
    /// in a section that does not exist or in no function is skipped (as libbpf does); a fatal error is recorded in
    /// its result and the remaining records are still processed (libbpf would stop at the first).
    /// </summary>
    public static CoreRelocationReport RelocateObject(ElfFile elf, BtfSpec localBtf, BtfExt ext, CoreCandidateCache cache, CancellationToken cancellationToken = default) =>
        RelocateObject(elf, localBtf, ext, cache, null, cancellationToken);

    /// <summary>
    /// Like <see cref="RelocateObject(ElfFile, BtfSpec, BtfExt, CoreCandidateCache, CancellationToken)"/>, but only for
    /// the programs <paramref name="loadProgram"/> accepts (by function name): libbpf does not relocate programs whose
    /// autoload is off, so their records neither get patched nor prune the candidate cache. Their results are
    /// <see cref="CoreRelocationStatus.Skipped"/>.
    /// </summary>
    public static CoreRelocationReport RelocateObject(ElfFile elf, BtfSpec localBtf, BtfExt ext, CoreCandidateCache cache,
        Func<string, bool>? loadProgram, CancellationToken cancellationToken = default)
    {
        if (elf is null) throw new ArgumentNullException(nameof(elf));
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (ext is null) throw new ArgumentNullException(nameof(ext));
        if (cache is null) throw new ArgumentNullException(nameof(cache));

        var sections = new List<CoreRelocatedSection>();
        var byIndex = new Dictionary<int, CoreRelocatedSection>();
        foreach (var s in elf.Sections)
        {
            if (s.Index == 0 || s.Type != ElfSectionType.ProgBits || !s.IsExecutable || s.Data.Length == 0 || s.Data.Length % 8 != 0)
                continue;
            var rs = new CoreRelocatedSection(s.Name, s.Index, BpfInstruction.ReadAll(s.Data.Span, elf.IsLittleEndian));
            sections.Add(rs);
            byIndex.Add(s.Index, rs);
        }

        var results = new List<CoreRelocationResult>();
        var records = new List<CoreRelocationRecord>();
        foreach (var sec in ext.CoreRelos)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var elfSec = sec.SectionName.Length == 0 ? null : elf.FindSection(sec.SectionName);
            CoreRelocatedSection? target = elfSec != null && byIndex.TryGetValue(elfSec.Index, out var t) ? t : null;
            var funcs = target != null ? FunctionsOf(elf, target.Index) : new List<ElfSymbol>();
            for (int i = 0; i < sec.Records.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var rec = sec.Records[i];
                int insnIdx = rec.InstructionIndex;
                var fn = target != null ? FindFunction(funcs, insnIdx) : null;
                if (sec.SectionName.Length == 0)
                {
                    // libbpf's bpf_object__relocate_core fails the load (-EINVAL) on a nameless .BTF.ext section.
                    var bad = NewResult(localBtf, sec.SectionName, null, i, rec, cache.Targets.Label);
                    Fail(bad, new BpfCoreRelocationException(CoreErrorKind.InvalidRecord, BpfCoreRelocationException.EINVAL,
                        ".BTF.ext core_relo section has an empty name"));
                    results.Add(bad);
                    continue;
                }
                if (target == null || fn == null)
                {
                    var skipped = NewResult(localBtf, sec.SectionName, null, i, rec, cache.Targets.Label);
                    skipped.Status = CoreRelocationStatus.Skipped;
                    skipped.Note = target == null
                        ? (elfSec == null ? $"section '{sec.SectionName}' does not exist in the object" : $"section '{sec.SectionName}' holds no instructions")
                        : $"no function contains instruction #{insnIdx} (libbpf skips relocations of eliminated __weak subprograms)";
                    if (target != null && insnIdx < target.Instructions.Length)
                        FillOld(skipped, target.Instructions, insnIdx);
                    results.Add(skipped);
                    continue;
                }
                if (loadProgram != null && !loadProgram(fn.Value.Name))
                {
                    var off = NewResult(localBtf, sec.SectionName, fn.Value.Name, i, rec, cache.Targets.Label);
                    off.Status = CoreRelocationStatus.Skipped;
                    off.Note = $"program '{fn.Value.Name}' is not loaded (autoload off): libbpf does not relocate it";
                    off.ProgramInstructionIndex = insnIdx - (int)(fn.Value.Value / 8);
                    if (insnIdx < target.Instructions.Length)
                        FillOld(off, target.Instructions, insnIdx);
                    results.Add(off);
                    continue;
                }
                int progStart = (int)(fn.Value.Value / 8);
                records.Clear();
                records.Add(new CoreRelocationRecord(i, rec));
                results.AddRange(ApplyCore(target.Instructions, 0, progStart, sec.SectionName, fn.Value.Name, records, localBtf, cache, cancellationToken));
            }
        }
        return new CoreRelocationReport(cache.Targets.Label, sections, results);
    }

    /// <summary>
    /// Applies CO-RE records to one program's instructions (what the runtime does per program, before appending
    /// subprograms; and what <see cref="RelocateObject(ElfFile, BtfSpec, BtfExt, CoreCandidateCache, CancellationToken)"/> does per record).
    /// </summary>
    /// <param name="insns">The program's instructions, patched in place.</param>
    /// <param name="baseInsnIndex">Section index of <paramref name="insns"/>[0]: a record's instruction is at <c>record.InstructionIndex - baseInsnIndex</c>.</param>
    /// <param name="section">Section name, for results.</param>
    /// <param name="program">Program name, for results.</param>
    /// <param name="records">The records (with their indices in the section's core_relo list) to apply, in order.</param>
    /// <param name="localBtf">The object's BTF.</param>
    /// <param name="cache">The candidate cache (one per object load, shared by all its programs).</param>
    /// <param name="cancellationToken">Checked between records.</param>
    public static IReadOnlyList<CoreRelocationResult> Apply(BpfInstruction[] insns, int baseInsnIndex, string section, string? program,
        IEnumerable<CoreRelocationRecord> records, BtfSpec localBtf, CoreCandidateCache cache, CancellationToken cancellationToken = default)
    {
        if (insns is null) throw new ArgumentNullException(nameof(insns));
        if (section is null) throw new ArgumentNullException(nameof(section));
        if (records is null) throw new ArgumentNullException(nameof(records));
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (cache is null) throw new ArgumentNullException(nameof(cache));
        return ApplyCore(insns, baseInsnIndex, baseInsnIndex, section, program, records, localBtf, cache, cancellationToken);
    }

    /// <summary>Convenience overload taking (record index, record) pairs.</summary>
    public static IReadOnlyList<CoreRelocationResult> Apply(BpfInstruction[] insns, int baseInsnIndex, string section, string? program,
        IEnumerable<(int RecordIndex, BtfCoreRelo Record)> records, BtfSpec localBtf, CoreCandidateCache cache, CancellationToken cancellationToken = default)
    {
        if (records is null) throw new ArgumentNullException(nameof(records));
        var list = new List<CoreRelocationRecord>();
        foreach (var (idx, rec) in records)
            list.Add(new CoreRelocationRecord(idx, rec));
        return Apply(insns, baseInsnIndex, section, program, list, localBtf, cache, cancellationToken);
    }

    /// <summary>The work of <c>Apply</c>, with the arguments checked.</summary>
    /// <param name="insns">The program's instructions, patched in place.</param>
    /// <param name="arrayBase">Section index of insns[0].</param>
    /// <param name="programStart">Section index of the program's first instruction (for program-relative numbers).</param>
    /// <param name="section">Section name, for results.</param>
    /// <param name="program">Program name, for results.</param>
    /// <param name="records">The records to apply, in order.</param>
    /// <param name="localBtf">The object's BTF.</param>
    /// <param name="cache">The candidate cache.</param>
    /// <param name="cancellationToken">Checked between records.</param>
    private static List<CoreRelocationResult> ApplyCore(BpfInstruction[] insns, int arrayBase, int programStart, string section, string? program,
        IEnumerable<CoreRelocationRecord> records, BtfSpec localBtf, CoreCandidateCache cache, CancellationToken cancellationToken)
    {
        var results = new List<CoreRelocationResult>();
        foreach (var r in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rec = r.Record;
            var res = NewResult(localBtf, section, program, r.RecordIndex, rec, cache.Targets.Label);
            results.Add(res);
            int sectionIdx = rec.InstructionIndex;
            int idx = sectionIdx - arrayBase;
            res.ProgramInstructionIndex = sectionIdx - programStart;
            int reported = sectionIdx - programStart;
            if ((uint)idx >= (uint)insns.Length)
            {
                Fail(res, new BpfCoreRelocationException(CoreErrorKind.InstructionOutOfRange, BpfCoreRelocationException.EINVAL,
                    $"instruction #{sectionIdx} of section '{section}' is outside the {insns.Length} instructions given (starting at #{arrayBase})"));
                continue;
            }
            FillOld(res, insns, idx);

            CoreResolution resolution;
            try
            {
                resolution = CoreResolver.Resolve(localBtf, rec, cache);
            }
            catch (BpfCoreRelocationException e)
            {
                Fail(res, e);
                continue;
            }
            res.Resolution = resolution;
            res.LocalValue = resolution.LocalValue;
            res.LocalSpec = resolution.LocalSpec.ToString();
            res.FieldPath = resolution.LocalSpec.FieldPath;
            res.TargetSpec = resolution.TargetSpec?.ToString();
            res.Candidates = resolution.Candidates;
            res.Matched = resolution.Matched;
            var tgt = resolution.Target;
            if (tgt.HasValue)
            {
                res.TargetTypeId = tgt.Value.TypeId;
                res.TargetSource = tgt.Value.Source;
            }

            CorePatchOutcome outcome;
            string? poisonReason;
            try
            {
                outcome = CorePatcher.Patch(insns, idx, resolution, out poisonReason, reported);
            }
            catch (BpfCoreRelocationException e)
            {
                Fail(res, e);
                continue;
            }
            if (outcome == CorePatchOutcome.Poisoned)
            {
                res.Status = CoreRelocationStatus.Poisoned;
                res.Error = poisonReason ?? resolution.Reason ?? "unresolvable relocation";
                if (poisonReason != null)
                    res.TargetValue = resolution.TargetValue;
                continue;
            }
            res.Status = CoreRelocationStatus.Applied;
            res.TargetValue = resolution.TargetValue;
            res.Note = resolution.Reason;
            res.NewValue = InstructionValue(insns, idx);
            if (res.OldMemorySize.HasValue)
                res.NewMemorySize = MemorySize(insns[idx]);
        }
        return results;
    }

    private static CoreRelocationResult NewResult(BtfSpec localBtf, string section, string? program, int recordIndex, BtfCoreRelo rec, string label)
    {
        string access = localBtf.IsValidStringOffset((int)Math.Min(rec.AccessStringOffset, int.MaxValue)) ? localBtf.GetString((int)rec.AccessStringOffset) : string.Empty;
        return new CoreRelocationResult
        {
            Section = section,
            Program = program,
            RecordIndex = recordIndex,
            InstructionIndex = rec.InstructionIndex,
            Kind = rec.Kind,
            LocalTypeId = rec.TypeId,
            LocalTypeName = CoreNames.DescribeType(localBtf, rec.TypeId),
            AccessString = access,
            TargetLabel = label,
        };
    }

    private static void Fail(CoreRelocationResult res, BpfCoreRelocationException e)
    {
        res.Status = CoreRelocationStatus.Failed;
        res.Error = e.Message;
        res.ErrorKind = e.Kind;
        res.Errno = e.LibbpfErrno;
        res.NewValue = null;
        res.NewMemorySize = null;
    }

    private static void FillOld(CoreRelocationResult res, BpfInstruction[] insns, int idx)
    {
        res.OldValue = InstructionValue(insns, idx);
        res.OldMemorySize = MemorySize(insns[idx]);
    }

    /// <summary>The relocatable field of an instruction, sign-extended: imm, off, or the ld_imm64 immediate.</summary>
    public static long InstructionValue(BpfInstruction[] insns, int idx)
    {
        if (insns is null) throw new ArgumentNullException(nameof(insns));
        var insn = insns[idx];
        switch (insn.Class)
        {
            case BpfOpCodes.ClassLdx:
            case BpfOpCodes.ClassSt:
            case BpfOpCodes.ClassStx:
                return insn.Offset;
            case BpfOpCodes.ClassLd when insn.IsLoadImm64 && idx + 1 < insns.Length:
                return unchecked((long)((uint)insn.Immediate | ((ulong)(uint)insns[idx + 1].Immediate << 32)));
            default:
                return insn.Immediate;
        }
    }

    private static int? MemorySize(BpfInstruction insn)
    {
        if (insn.Class != BpfOpCodes.ClassLdx && insn.Class != BpfOpCodes.ClassSt && insn.Class != BpfOpCodes.ClassStx)
            return null;
        return insn.Size switch
        {
            BpfOpCodes.SizeDW => 8,
            BpfOpCodes.SizeW => 4,
            BpfOpCodes.SizeH => 2,
            _ => 1,
        };
    }

    // ------------------------------------------------------------------ programs

    /// <summary>STT_FUNC symbols of a section sorted by offset (libbpf's programs of that section).</summary>
    internal static List<ElfSymbol> FunctionsOf(ElfFile elf, int sectionIndex)
    {
        var funcs = new List<ElfSymbol>();
        foreach (var sym in elf.Symbols)
        {
            if (sym.Type == ElfSymbolType.Func && sym.SectionIndex == sectionIndex)
                funcs.Add(sym);
        }
        // Stable by offset, then symbol order.
        funcs.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Index.CompareTo(b.Index));
        return funcs;
    }

    /// <summary>
    /// libbpf's find_prog_by_sec_insn: the last function starting at or before the instruction, if the instruction
    /// is within its size.
    /// </summary>
    internal static ElfSymbol? FindFunction(List<ElfSymbol> funcs, int insnIdx)
    {
        ElfSymbol? best = null;
        foreach (var f in funcs)
        {
            if (f.Value / 8 <= (ulong)insnIdx)
                best = f;
            else
                break;
        }
        if (best == null)
            return null;
        var fn = best.Value;
        ulong start = fn.Value / 8, count = fn.Size / 8;
        return (ulong)insnIdx < start + count ? fn : null;
    }

    /// <summary>The function containing a section instruction, as libbpf assigns instructions to programs; null if none.</summary>
    public static string? FindProgram(ElfFile elf, int sectionIndex, int instructionIndex)
    {
        if (elf is null) throw new ArgumentNullException(nameof(elf));
        return FindFunction(FunctionsOf(elf, sectionIndex), instructionIndex)?.Name;
    }
}
