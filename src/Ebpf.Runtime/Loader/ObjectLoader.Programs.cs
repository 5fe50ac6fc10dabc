using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Kernel;
using Ebpf.Objects;
using Microsoft.Extensions.Logging;

namespace Ebpf.Loader;

internal sealed unsafe partial class ObjectLoader
{
    private void LoadPrograms()
    {
        foreach (var p in _obj.Programs)
        {
            var outcome = Report[p];
            if (!p.Autoload || p.Spec == null)
            {
                outcome.Status = BpfProgramLoadStatus.Skipped;
                _log.LogDebug("prog '{Program}': not loaded (autoload off)", p.Name);
                continue;
            }
            try
            {
                LoadProgram(p, p.Spec);
                outcome.Status = BpfProgramLoadStatus.Loaded;
                (outcome.Id, outcome.InstructionCount, outcome.VerifierLog) = (p.Id, p.InstructionCount, p.VerifierLog);
            }
            catch (BpfException e) when (ProgramFailed(p, e))
            {
            }
        }
    }

    private void LoadProgram(BpfProgram p, ProgramSpec spec)
    {
        if (p.Type == BpfProgramType.Unspec)
            throw ProgramError(p, $"SEC(\"{p.SectionName}\") is not a section name libbpf knows, so the program type is unknown; " +
                "use a standard section name (e.g. \"tp/<category>/<name>\", \"kprobe/<func>\", \"xdp\") or set BpfProgram.Type before Load()");
        var linked = ProgramLinker.Link(_spec, spec, f => _relocated.TryGetValue(f, out var r) ? r : f.Instructions);
        // Continuing on failure: a function of this program whose CO-RE relocation failed fails it.
        foreach (var lf in linked.Layout)
        {
            if (_failedFunctions.TryGetValue(lf.Function, out var failed))
                throw ReferenceEquals(lf.Function, spec.Function) && failed.ProgramName == p.Name
                    ? failed
                    : ForProgram(p, ReferenceEquals(lf.Function, spec.Function) ? string.Empty : $"subprogram '{lf.Function.Name}': ", failed);
        }
        var insns = linked.Instructions;
        var coreResults = new List<CoreRelocationResult>();
        foreach (var lf in linked.Layout)
            if (_coreResults.TryGetValue(lf.Function, out var res)) coreResults.AddRange(res);
        p.CoreRelocations = coreResults;
        FillReferences(p, linked, insns);

        uint attachBtfId = 0;
        BpfHandle? attachBtfObj = null;
        BpfAttachType? expectedAttachType = p.ExpectedAttachType;
        if (p.Type == BpfProgramType.StructOps)
            (attachBtfId, expectedAttachType, attachBtfObj) = StructOpsTarget(p);
        else if (p.Section?.Definition.AttachesByBtf == true || p.Type is BpfProgramType.Tracing or BpfProgramType.Lsm)
            (attachBtfId, attachBtfObj) = FindAttachBtfId(p);

        var btf = _obj.BtfHandle;
        bool withBtfInfo = btf != null && linked.FuncInfos.Count > 0;
        var funcInfo = new uint[withBtfInfo ? linked.FuncInfos.Count * 2 : 0];
        var lineInfo = new uint[withBtfInfo ? linked.LineInfos.Count * 4 : 0];
        if (withBtfInfo)
        {
            for (int i = 0; i < linked.FuncInfos.Count; i++)
            {
                funcInfo[i * 2] = linked.FuncInfos[i].InstructionOffset;
                funcInfo[i * 2 + 1] = (uint)linked.FuncInfos[i].TypeId;
            }
            for (int i = 0; i < linked.LineInfos.Count; i++)
            {
                var li = linked.LineInfos[i];
                lineInfo[i * 4] = li.InstructionOffset;
                lineInfo[i * 4 + 1] = li.FileNameOffset;
                lineInfo[i * 4 + 2] = li.LineOffset;
                lineInfo[i * 4 + 3] = li.LineCol;
            }
        }
        var license = Encoding.UTF8.GetBytes((_spec.License ?? string.Empty) + "\0");
        var fdArray = _fdArray.Count > 1 ? _fdArray.ToArray() : null;
        int level = p.VerifierLogLevel ?? _options.VerifierLogLevel;
        int logSize = Math.Max(4096, _options.VerifierLogSize);
        byte[]? logBuf = level > 0 ? new byte[logSize] : null;

        fixed (BpfInstruction* pi = insns)
        fixed (byte* pl = license)
        fixed (uint* pfi = funcInfo)
        fixed (uint* pli = lineInfo)
        fixed (int* pfd = fdArray)
        {
            var attr = new ProgLoadAttr
            {
                ProgType = (uint)p.Type,
                InsnCnt = (uint)insns.Length,
                Insns = (ulong)pi,
                License = (ulong)pl,
                KernVersion = _spec.KernelVersion != 0 ? _spec.KernelVersion : KernelInfo.VersionCode,
                ProgFlags = (uint)p.Flags,
                ExpectedAttachType = expectedAttachType.HasValue ? (uint)expectedAttachType.Value : 0,
                AttachBtfId = attachBtfId,
                AttachProgFdOrBtfObjFd = attachBtfObj != null ? (uint)attachBtfObj.Fd : 0,
                FdArray = (ulong)pfd,
            };
            if (_features.ProgramName)
                BpfSys.WriteName(attr.ProgName, p.Name);
            if (withBtfInfo)
            {
                attr.ProgBtfFd = (uint)btf!.Fd;
                attr.FuncInfoRecSize = 8;
                attr.FuncInfo = (ulong)pfi;
                attr.FuncInfoCnt = (uint)linked.FuncInfos.Count;
                if (linked.LineInfos.Count > 0)
                {
                    attr.LineInfoRecSize = 16;
                    attr.LineInfo = (ulong)pli;
                    attr.LineInfoCnt = (uint)linked.LineInfos.Count;
                }
            }

            int fd = -1;
            for (int attempt = 0; ; attempt++)
            {
                fixed (byte* plog = logBuf)
                {
                    attr.LogBuf = (ulong)plog;
                    attr.LogSize = logBuf != null ? (uint)logBuf.Length : 0;
                    attr.LogLevel = logBuf != null ? (uint)Math.Max(level, 1) : 0;
                    attr.LogTrueSize = 0;
                    fd = BpfSys.Call(_sys, BpfCommand.ProgLoad, ref attr);
                }
                if (fd >= 0) break;
                int errno = -fd;
                if (errno == Errno.EAGAIN && attempt < ProgLoadAttempts)
                    continue;
                if (errno == Errno.ENOSPC && logBuf != null && logBuf.Length < MaxLogSize)
                {
                    // The log did not fit: grow the buffer (to the size the kernel reports, when it does) and retry.
                    // The kernel's size is not trusted: computed in 64 bits, at least one byte more than now (so the
                    // retries end), at most MaxLogSize.
                    long want = attr.LogTrueSize > (uint)logBuf.Length ? (long)attr.LogTrueSize + 1 : (long)logBuf.Length * 4;
                    logBuf = new byte[(int)Math.Min(MaxLogSize, want)];
                    continue;
                }
                if (logBuf == null && IsVerifierFailure(errno))
                {
                    // First failure without a log: load again asking for the verifier's reasons.
                    logBuf = new byte[logSize];
                    level = 1;
                    continue;
                }
                throw LoadFailure(p, linked, errno, logBuf);
            }
            var h = new BpfHandle(fd, BpfHandleKind.Program, _sys);
            var info = new ProgInfo();
            try
            {
                BpfSys.GetInfo(_sys, h, ref info);
            }
            catch
            {
                h.Dispose();
                throw;
            }
            p.SetHandle(h, info.Id);
            BindReadOnlyData(p, h);
            p.InstructionCount = insns.Length;
            if (logBuf != null && (p.VerifierLogLevel ?? _options.VerifierLogLevel) > 0)
                p.VerifierLog = LogText(logBuf);
            _log.LogDebug("prog '{Program}': loaded as {Type} ({Insns} insns{Subprogs}), id {Id}", p.Name, p.Type, insns.Length,
                linked.Layout.Count > 1 ? $", {linked.Layout.Count - 1} subprograms" : string.Empty, info.Id);
        }
    }

    /// <summary>
    /// As libbpf does, every program holds the object's read-only data maps (.rodata, .rodata.*) whether or not its
    /// instructions use them (BPF_PROG_BIND_MAP, Linux 5.10): tools read a program's metadata (bpf_metadata_*
    /// variables) from its maps, and the maps live as long as any program. Best effort, as in libbpf: a kernel without
    /// the command, or a refusal, is logged and the load goes on.
    /// </summary>
    private void BindReadOnlyData(BpfProgram p, BpfHandle prog)
    {
        bool probed = false;
        foreach (var map in _obj.Maps)
        {
            if (map.Spec?.Origin != MapOrigin.Rodata || !map.IsLoaded)
                continue;
            if (!probed && !_features.ProgBindMap)
                return;
            probed = true;
            int r = BpfSys.ProgBindMap(_sys, prog.Fd, map.Handle.Fd);
            if (r < 0)
                _log.LogWarning("prog '{Program}': binding read-only map '{Map}' failed with {Errno}; the program loads without it", p.Name, map.Name, Errno.Name(-r));
        }
    }

    private static bool IsVerifierFailure(int errno) => errno is Errno.EINVAL or Errno.EACCES or Errno.EPERM or Errno.E2BIG or Errno.EFAULT or Errno.ENOTSUPP;

    private static string LogText(byte[] log)
    {
        int n = Array.IndexOf(log, (byte)0);
        return Encoding.UTF8.GetString(log, 0, n < 0 ? log.Length : n).TrimEnd();
    }

    private static readonly Regex s_unknownHelper = new Regex(@"invalid func unknown#(\d+)", RegexOptions.CultureInvariant);

    private static readonly Regex s_poisonLine = new Regex(@"^(\d+): \(85\) call unknown#(\d+)", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    /// <summary>The exception for a failed load: a CO-RE failure the verifier reached, or the verifier's refusal with its log.</summary>
    private Exception LoadFailure(BpfProgram p, LinkedProgram linked, int errno, byte[]? logBuf)
    {
        string log = logBuf != null ? LogText(logBuf) : string.Empty;
        // A poisoned CO-RE relocation reached by the verifier: name the struct, the field and the kernel.
        foreach (Match m in s_poisonLine.Matches(log))
        {
            int insn = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            long imm = long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (imm == BpfOpCodes.PoisonCallImmediate)
            {
                var failed = FindPoisonedRelocation(linked, insn);
                if (failed != null)
                {
                    string reason = $"the verifier reached instruction #{insn}, whose {DescribeFailedRelocation(failed)}";
                    return new BpfCoreRelocationException(p.Name, BpfCoreAccess.From(failed), $"prog '{p.Name}': {reason}", VerifierRefusal(p, errno, log))
                        .WithReason(reason);
                }
            }
            else if (imm >= BpfOpCodes.PoisonKfuncCallBase && imm < BpfOpCodes.PoisonKfuncCallBase + _spec.Externs.Count)
            {
                var ext = _spec.Externs[(int)(imm - BpfOpCodes.PoisonKfuncCallBase)];
                return ProgramError(p, $"the verifier reached a call of kfunc '{ext.Name}' (instruction #{insn}), which this kernel does not have (it is declared __weak); guard the call with bpf_ksym_exists()");
            }
        }
        if (MissingKernelFeature(p, linked, errno) is { } missing)
            return missing;
        // A helper this kernel does not know at all ("invalid func unknown#181"): name it and its release.
        if (s_unknownHelper.Match(log) is { Success: true } uh
            && int.TryParse(uh.Groups[1].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int helperId)
            && KernelFeatures.MinimumKernel(helperId) is { } helperSince)
            return KernelFeatures.Missing($"helper {BpfHelpers.GetName(helperId)} (#{helperId})", helperSince, $"prog '{p.Name}' (SEC(\"{p.SectionName}\")) calls it");
        if (errno == Errno.EPERM && Environment.IsPrivilegedProcess && TrampolineRefused(p) is { } refused)
            return refused;
        if (log.Length == 0)
            return BpfSys.Error(BpfCommand.ProgLoad, errno, $"of program '{p.Name}' ({p.Type})", _features.PermissionAdvice(BpfCommand.ProgLoad, errno));
        return VerifierRefusal(p, errno, log);
    }

    /// <summary>
    /// EPERM for a privileged process loading a program that runs on a BPF trampoline (fentry, fexit, fmod_ret, lsm,
    /// freplace, struct_ops): not a missing privilege but a kernel that will not make trampolines (built without
    /// them, or locked down). Named as the missing feature, with the first release that has it; null for other programs.
    /// </summary>
    private static BpfNotSupportedException? TrampolineRefused(BpfProgram p)
    {
        (string? feature, string? since) = p.Type switch
        {
            BpfProgramType.Tracing when p.UsesKernelTrampoline => (KernelFeatures.TrampolineFeature, KernelFeatures.TrampolineMinimumKernel),
            BpfProgramType.Lsm or BpfProgramType.Ext or BpfProgramType.StructOps => (KernelFeatures.ProgramTypeFeature(p.Type), KernelFeatures.MinimumKernel(p.Type)),
            _ => ((string?)null, (string?)null),
        };
        if (feature is null || since is null)
            return null;
        return KernelFeatures.Missing(feature, since, $"prog '{p.Name}' (SEC(\"{p.SectionName}\"))",
            "this process is privileged, so the kernel itself refuses these programs (EPERM): it was built without BPF trampolines " +
            $"(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS){(p.Type == BpfProgramType.Lsm ? ", or without CONFIG_BPF_LSM / \"bpf\" in the lsm= boot parameter" : string.Empty)}, " +
            "or kernel lockdown forbids them; use a kprobe or tracepoint instead on this kernel",
            Errno.EPERM, BpfCommand.ProgLoad);
    }

    private static BpfVerifierException VerifierRefusal(BpfProgram p, int errno, string log)
    {
        string last = LastLogLine(log);
        var e = new BpfVerifierException(p.Name, errno, log,
            $"prog '{p.Name}' ({p.Type}, SEC(\"{p.SectionName}\")): the verifier rejected it ({Errno.Name(errno)}): {last}. The full verifier log is in VerifierLog ({log.Length} characters).");
        e.WithReason($"{last} ({Errno.Name(errno)})");
        return e;
    }

    /// <summary>A program's failure: the message names the program, <see cref="BpfException.Reason"/> is the rest.</summary>
    private BpfException ProgramError(BpfProgram p, string reason, Exception? inner = null) =>
        new BpfException($"prog '{p.Name}': {reason}", inner).About(objectName: _spec.Name, programName: p.Name).WithReason(reason);

    /// <summary>
    /// A kernel feature the program needs and this kernel lacks, named with the first Linux release that has it:
    /// its program type, or an instruction-set extension it uses (the verifier would only say EINVAL, "unknown
    /// opcode" or "uses reserved fields"). Probed only after a load has failed.
    /// </summary>
    private BpfNotSupportedException? MissingKernelFeature(BpfProgram p, LinkedProgram linked, int errno)
    {
        if (errno is not (Errno.EINVAL or Errno.E2BIG or Errno.EOPNOTSUPP or Errno.ENOTSUPP))
            return null;
        if (!_features.ProgramType(p.Type, p.ExpectedAttachType))
            return KernelFeatures.Missing(KernelFeatures.ProgramTypeFeature(p.Type), KernelFeatures.MinimumKernel(p.Type),
                $"prog '{p.Name}' (SEC(\"{p.SectionName}\"))",
                p.Type switch
                {
                    BpfProgramType.Lsm => "it was built without CONFIG_BPF_LSM",
                    BpfProgramType.LircMode2 => "it was built without CONFIG_BPF_LIRC_MODE2",
                    BpfProgramType.LwtIn or BpfProgramType.LwtOut or BpfProgramType.LwtXmit or BpfProgramType.LwtSeg6Local => "it was built without CONFIG_LWTUNNEL_BPF",
                    BpfProgramType.Kprobe or BpfProgramType.Tracepoint or BpfProgramType.PerfEvent or BpfProgramType.RawTracepoint => "it was built without CONFIG_BPF_EVENTS",
                    _ => null,
                });
        foreach (var need in KernelFeatures.InstructionSetNeeds(linked.Instructions))
        {
            if (!_features.Supports(need.Key))
                return KernelFeatures.Missing(KernelFeatures.Describe(need.Key), KernelFeatures.MinimumKernel(need.Key),
                    $"prog '{p.Name}' (SEC(\"{p.SectionName}\")) uses them, first at instruction #{need.Value} ({linked.Instructions[need.Value]})");
        }
        return null;
    }

    private static string LastLogLine(string log)
    {
        var lines = log.Split('\n');
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            var l = lines[i].Trim();
            if (l.Length == 0 || l.StartsWith("processed ", StringComparison.Ordinal) || l.StartsWith("verification time", StringComparison.Ordinal) || l.StartsWith("stack depth", StringComparison.Ordinal))
                continue;
            return l;
        }
        return log.Trim();
    }

    private CoreRelocationResult? FindPoisonedRelocation(LinkedProgram linked, int linkedInsn)
    {
        foreach (var lf in linked.Layout)
        {
            int rel = linkedInsn - lf.Start;
            if (rel < 0 || rel >= lf.Function.InstructionCount) continue;
            if (!_coreResults.TryGetValue(lf.Function, out var results)) return null;
            int sectionInsn = lf.Function.SectionInstruction + rel;
            foreach (var r in results)
            {
                if (r.Poisoned && (r.InstructionIndex == sectionInsn || r.InstructionIndex == sectionInsn - 1))
                    return r;
            }
        }
        return null;
    }

    /// <summary>Fills map fds, data-section values, extern values and kfunc ids into the linked instructions.</summary>
    private void FillReferences(BpfProgram p, LinkedProgram linked, BpfInstruction[] insns)
    {
        foreach (var lr in linked.References)
        {
            var r = lr.Reference;
            int i = lr.Instruction;
            switch (r.Kind)
            {
                case InstructionReferenceKind.Map:
                {
                    var map = _obj.Maps[r.MapIndex];
                    insns[i].Src = BpfOpCodes.PseudoMapFd;
                    insns[i].Immediate = MapFdFor(p, map);
                    insns[i + 1].Immediate = 0;
                    break;
                }
                case InstructionReferenceKind.MapValue:
                {
                    var map = _obj.Maps[r.MapIndex];
                    if (!_features.GlobalData)
                        throw new BpfNotSupportedException("global variables (.data, .rodata, .bss)", "5.2", $"prog '{p.Name}' uses '{map.Spec!.SectionName}'");
                    insns[i].Src = BpfOpCodes.PseudoMapValue;
                    insns[i].Immediate = MapFdFor(p, map);
                    insns[i + 1].Immediate = (int)r.Offset;
                    break;
                }
                case InstructionReferenceKind.Extern:
                {
                    var ext = _spec.Externs[r.ExternIndex];
                    var val = _externs[r.ExternIndex];
                    if (_externErrors[r.ExternIndex] is { } externError)
                        throw ForProgram(p, $"extern '{ext.Name}' cannot be resolved: ", externError);
                    if (ext.Kind == ExternKind.Kconfig)
                    {
                        var kmap = _obj.GetDataSection(".kconfig").Map;
                        insns[i].Src = BpfOpCodes.PseudoMapValue;
                        insns[i].Immediate = MapFdFor(p, kmap);
                        insns[i + 1].Immediate = ext.KconfigOffset;
                    }
                    else if ((ext.KsymTypeId != 0 || ext.IsFunction) && val.IsSet)
                    {
                        // A typed ksym's address, or a kfunc's (bpf_ksym_exists(): the kernel takes a FUNC's BTF id
                        // in ld_imm64 from Linux 6.4, as with libbpf 1.2); a weak one left unresolved loads 0 below.
                        insns[i].Src = BpfOpCodes.PseudoBtfId;
                        insns[i].Immediate = val.BtfId;
                        insns[i + 1].Immediate = val.BtfObjFd;
                    }
                    else
                    {
                        insns[i].Src = 0;
                        insns[i].Immediate = (int)(uint)val.Address;
                        insns[i + 1].Immediate = (int)(uint)(val.Address >> 32);
                    }
                    break;
                }
                case InstructionReferenceKind.KfuncCall:
                {
                    var val = _externs[r.ExternIndex];
                    if (_externErrors[r.ExternIndex] is { } kfuncError)
                        throw ForProgram(p, $"kfunc '{_spec.Externs[r.ExternIndex].Name}' cannot be resolved: ", kfuncError);
                    if (val.IsSet)
                    {
                        insns[i].Src = BpfOpCodes.PseudoKfuncCall;
                        insns[i].Immediate = val.BtfId;
                        insns[i].Offset = (short)val.FdArrayIndex;
                    }
                    else
                    {
                        // Unresolved weak kfunc: an invalid call the verifier reports only if it is reachable.
                        insns[i] = new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpCall, 0, 0, 0, BpfOpCodes.PoisonKfuncCallBase + r.ExternIndex);
                    }
                    break;
                }
            }
        }
    }

    private int MapFdFor(BpfProgram p, BpfMap map)
    {
        if (!map.IsLoaded)
        {
            if (Report[map].Error is { } mapError)
                throw ForProgram(p, $"it uses map '{map.Name}', which failed: ", mapError);
            throw ProgramError(p, $"it uses map '{map.Name}', which was not created (AutoCreate is off and no handle was given with ReuseHandle)")
                .About(mapName: map.Name);
        }
        return map.Fd;
    }

    /// <summary>The BTF id (and module BTF object) a tracing/LSM/iterator program is verified against.</summary>
    private (uint, BpfHandle?) FindAttachBtfId(BpfProgram p)
    {
        string? target = p.AttachTarget;
        if (string.IsNullOrEmpty(target))
            throw ProgramError(p, $"SEC(\"{p.SectionName}\") names no attach target; set BpfProgram.AttachTarget before Load()");
        string? module = null;
        int colon = target!.IndexOf(':');
        if (colon > 0)
        {
            module = target.Substring(0, colon);
            target = target.Substring(colon + 1);
        }
        string name;
        BtfKind kind;
        var eat = p.ExpectedAttachType;
        if (eat == BpfAttachType.TraceRawTp)
        {
            name = "btf_trace_" + target;
            kind = BtfKind.Typedef;
        }
        else if (eat == BpfAttachType.LsmMac || eat == BpfAttachType.LsmCgroup)
        {
            name = "bpf_lsm_" + target;
            kind = BtfKind.Func;
        }
        else if (eat == BpfAttachType.TraceIter)
        {
            name = "bpf_iter_" + target;
            kind = BtfKind.Func;
        }
        else
        {
            name = target;
            kind = BtfKind.Func;
        }
        BtfSpec vmlinux;
        try
        {
            vmlinux = KernelBtf.ForBtfIds(_options.TargetBtfPath);
        }
        catch (BpfEnvironmentException e)
        {
            string reason = $"it is attached by BTF id (SEC(\"{p.SectionName}\")) and needs the kernel's BTF: {e.Message}";
            throw new BpfEnvironmentException($"prog '{p.Name}': {reason}", e).WithReason(reason);
        }
        if (module == null)
        {
            int id = vmlinux.FindByName(name, kind);
            if (id > 0)
                return ((uint)id, null);
        }
        if (_options.TargetBtfPath == null)
        {
            foreach (var m in KernelBtf.Modules(vmlinux))
            {
                if (module != null && m.Name != module) continue;
                int id = m.Btf.FindByName(name, kind);
                if (id >= m.Btf.FirstTypeId)
                {
                    _btfObjects ??= new KernelBtfObjects(_sys);
                    var h = _btfObjects.FindModule(m.Name)
                        ?? throw ProgramError(p, $"attach target '{target}' is in module '{m.Name}', whose BTF object cannot be opened");
                    return ((uint)id, h);
                }
            }
        }
        throw ProgramError(p, $"attach target '{target}' ({kind.ToLowerName()} '{name}') was not found in the kernel's BTF{(module != null ? $" of module '{module}'" : " or module BTFs")}; check the name in SEC(\"{p.SectionName}\") and that the function exists and is traceable on {KernelInfo.Release}");
    }
}
