using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Interop;
using Ebpf.Kernel;
using Ebpf.Objects;
using Microsoft.Extensions.Logging;

namespace Ebpf.Loader;

/// <summary>
/// Turns an opened <see cref="BpfObject"/> into kernel objects, in libbpf's order: CO-RE relocation, externs,
/// BTF, maps (with pinning, initial data, freezing, inner maps), programs (subprograms appended, references
/// filled in, verifier log on failure), prog-array slots, data-section mappings. Each map and program gets an
/// outcome in the <see cref="BpfLoadReport"/>. Stopping at the first failure, anything created is closed; continuing
/// on failure, a failed map is closed and reported with the programs that need it, a failed CO-RE relocation or
/// extern fails the programs that use it, and the rest loads.
/// </summary>
internal sealed unsafe partial class ObjectLoader
{
    private const int MaxLogSize = 16 * 1024 * 1024;
    private const int ProgLoadAttempts = 5;

    private readonly BpfObject _obj;
    private readonly BpfObjectSpec _spec;
    private readonly Syscalls _sys;
    private readonly ILogger _log;
    private readonly BpfObjectOptions _options;
    private KernelFeatures _features = null!;
    private CoreTargets? _targets;
    private CoreCandidateCache? _coreCache;
    private readonly Dictionary<FunctionSpec, BpfInstruction[]> _relocated = new Dictionary<FunctionSpec, BpfInstruction[]>();
    private readonly Dictionary<FunctionSpec, IReadOnlyList<CoreRelocationResult>> _coreResults = new Dictionary<FunctionSpec, IReadOnlyList<CoreRelocationResult>>();
    private readonly ExternValue[] _externs;
    private readonly List<BpfHandle> _transient = new List<BpfHandle>();
    private readonly List<int> _fdArray = new List<int> { 0 };
    private KernelBtfObjects? _btfObjects;
    private readonly bool _continue;
    private BpfException? _targetsError;
    /// <summary>Continuing on failure: functions whose CO-RE relocation failed, and the failure (programs calling them fail with it).</summary>
    private readonly Dictionary<FunctionSpec, BpfException> _failedFunctions = new Dictionary<FunctionSpec, BpfException>();
    /// <summary>Continuing on failure: externs that could not be resolved (programs using them fail with it).</summary>
    private readonly BpfException?[] _externErrors;

    /// <summary>What an extern resolved to.</summary>
    private struct ExternValue
    {
        public bool IsSet;
        public ulong Address;     // untyped ksym
        public int BtfId;         // typed ksym / kfunc: id in the kernel (or module) BTF
        public int BtfObjFd;      // typed ksym in a module: its BTF object fd (0 = vmlinux)
        public int FdArrayIndex;  // kfunc in a module: index in fd_array (0 = vmlinux)
    }

    public ObjectLoader(BpfObject obj, BpfLoadMode mode)
    {
        _obj = obj;
        _spec = obj.Spec;
        _sys = obj.Syscalls;
        _log = obj.Logger;
        _options = obj.Options;
        _externs = new ExternValue[_spec.Externs.Count];
        _externErrors = new BpfException?[_spec.Externs.Count];
        _continue = mode == BpfLoadMode.ContinueOnFailure;
        Report = new BpfLoadReport(obj, mode);
    }

    /// <summary>Outcomes so far (complete once <see cref="Load"/> returns or throws).</summary>
    public BpfLoadReport Report { get; }

    /// <summary>
    /// Loads the object. Stopping at the first failure, throws it (after closing everything); continuing on failure,
    /// returns normally unless something no map or program explains fails (then <see cref="BpfLoadReport.Error"/>
    /// says what, and nothing stays loaded). Exceptions other than <see cref="BpfException"/> (bugs, misuse) propagate in both modes.
    /// </summary>
    public void Load()
    {
        try
        {
            if (!_spec.Elf.IsLittleEndian && BitConverter.IsLittleEndian)
                throw new BpfException($"object '{_spec.Name}' is big-endian (clang -target bpfeb) but this kernel is little-endian: build it with -target bpf or bpfel");
            _features = KernelFeatures.For(_sys);
            _features.Logger ??= _log;
            _features.EnsureMemlock();
            _features.EnsureBpfPermitted();
            RelocateCore();
            ResolveExterns();
            LoadBtf();
            PrepareStructOps();
            CreateMaps();
            LoadPrograms();
            FillProgramArrays();
            foreach (var ops in _obj.StructOps)
                ops.WriteProgramDescriptors();
        }
        catch (Exception e)
        {
            if (e is BpfException be)
                Report.Error ??= be.About(objectName: _spec.Name);
            _obj.ReleaseKernelObjects(disposing: false);
            if (_continue && e is BpfException)
                return;
            throw;
        }
        finally
        {
            foreach (var h in _transient)
                h.Dispose();
            _btfObjects?.Dispose();
        }
    }

    /// <summary>
    /// Records a map's failure (exception filter: runs before unwinding). True when the load goes on without the map
    /// (the caller closes it); false when the failure stops the load.
    /// </summary>
    private bool MapFailed(BpfMap map, BpfException e)
    {
        Report[map].Fail(e.About(objectName: _spec.Name, mapName: map.Name));
        return _continue;
    }

    /// <summary>Records a program's failure; true when the load goes on without it.</summary>
    private bool ProgramFailed(BpfProgram p, BpfException e)
    {
        Report[p].Fail(e.About(objectName: _spec.Name, programName: p.Name));
        return _continue;
    }

    /// <summary>Closes what was made of a map that failed (its data-section mapping, its descriptor).</summary>
    private void CloseFailedMap(BpfMap map)
    {
        foreach (var s in _obj.DataSections)
            if (ReferenceEquals(s.Map, map)) s.ReleaseMapping();
        map.Dispose();
    }

    /// <summary>
    /// A failure that belongs to something a program needs (a subprogram's relocation, an extern, a map), as the
    /// failure of that program: the same kind of error, naming the program, with the original inside.
    /// </summary>
    private BpfException ForProgram(BpfProgram p, string what, BpfException e)
    {
        string reason = what + e.Reason;
        string message = $"prog '{p.Name}': {reason}";
        BpfException x = e switch
        {
            BpfCoreRelocationException c => new BpfCoreRelocationException(p.Name, c.CoreAccess, message, c),
            BpfEnvironmentException => new BpfEnvironmentException(message, e),
            _ => new BpfException(message, e),
        };
        return x.About(objectName: _spec.Name, programName: p.Name, mapName: e.MapName).WithReason(reason);
    }

    // ================================================================== CO-RE

    private CoreTargets Targets()
    {
        if (_targets != null) return _targets;
        if (_targetsError != null) throw _targetsError;
        try
        {
            _targets = KernelBtf.Targets(_options, _obj.EmbeddedBtfAssembly, _log);
        }
        catch (BpfEnvironmentException e)
        {
            throw _targetsError = new BpfEnvironmentException($"object '{_spec.Name}' needs the kernel's BTF: {e.Message}", e);
        }
        return _targets;
    }

    private void RelocateCore()
    {
        var ext = _spec.BtfExt;
        if (ext == null || _spec.Btf == null || ext.CoreRelos.Count == 0)
            return;
        // libbpf's order and scope: .BTF.ext section by section, record by record, skipping only records of
        // programs that will not be loaded. Candidate lists are pruned as relocations match, so the order matters.
        var programs = new Dictionary<FunctionSpec, BpfProgram>();
        foreach (var p in _obj.Programs)
            if (p.Spec != null) programs[p.Spec.Function] = p;
        var results = new Dictionary<FunctionSpec, List<CoreRelocationResult>>();
        var one = new CoreRelocationRecord[1];
        foreach (var sec in ext.CoreRelos)
        {
            var elfSec = _spec.Elf.FindSection(sec.SectionName);
            if (elfSec == null) continue;
            for (int n = 0; n < sec.Records.Count; n++)
            {
                var rec = sec.Records[n];
                var f = _spec.FindFunction(elfSec.Index, rec.InstructionIndex);
                if (f == null) continue; // eliminated weak subprogram, as libbpf skips it
                if (programs.TryGetValue(f, out var prog) && !prog.Autoload) continue;
                if (_failedFunctions.ContainsKey(f)) continue;
                if (!_relocated.TryGetValue(f, out var insns))
                    _relocated[f] = insns = (BpfInstruction[])f.Instructions.Clone();
                one[0] = new CoreRelocationRecord(n, rec);
                try
                {
                    _coreCache ??= new CoreCandidateCache(Targets());
                    IReadOnlyList<CoreRelocationResult> r;
                    try
                    {
                        r = CoreRelocator.Apply(insns, f.SectionInstruction, f.SectionName, f.Name, one, _spec.Btf, _coreCache);
                    }
                    catch (BpfCoreRelocationException e)
                    {
                        string reason = $"CO-RE relocation against {_coreCache.Targets.Label} failed: {e.Message}";
                        throw new BpfCoreRelocationException(f.Name, null, $"prog '{f.Name}': {reason}", e).WithReason(reason);
                    }
                    if (!results.TryGetValue(f, out var list))
                        results[f] = list = new List<CoreRelocationResult>();
                    list.AddRange(r);
                    foreach (var res in r)
                        ReportRelocation(f, res);
                }
                catch (BpfException e) when (FunctionFailed(f, prog, e))
                {
                }
            }
        }
        foreach (var kv in results)
            _coreResults[kv.Key] = kv.Value;
    }

    /// <summary>
    /// Records a function whose CO-RE relocation failed. Stopping at the first failure, the program it is the entry
    /// of fails with it, and the load stops (false); continuing, every program that calls it fails with it when it
    /// is loaded (true).
    /// </summary>
    private bool FunctionFailed(FunctionSpec f, BpfProgram? entryOf, BpfException e)
    {
        if (_continue)
        {
            _failedFunctions[f] = e;
            return true;
        }
        if (entryOf != null)
            Report[entryOf].Fail(e.ProgramName == entryOf.Name ? e : ForProgram(entryOf, string.Empty, e));
        return false;
    }

    private void ReportRelocation(FunctionSpec f, CoreRelocationResult r)
    {
        string target = _coreCache?.Targets.Label ?? "the kernel";
        if (r.IsFatal)
        {
            string reason = $"CO-RE relocation #{r.RecordIndex} ({r.Kind.ToShortName()} {r.LocalTypeName} {r.FieldPath ?? r.AccessString}) against {target} failed: {r.Error}";
            throw new BpfCoreRelocationException(r.ErrorKind ?? CoreErrorKind.InvalidRecord, r.Errno ?? BpfCoreRelocationException.EINVAL, $"prog '{f.Name}': {reason}")
                .About(programName: f.Name, coreAccess: BpfCoreAccess.From(r)).WithReason(reason);
        }
        if (r.Poisoned)
        {
            _log.LogDebug("prog '{Program}': relo #{Relo}: {Kind} {Type} {Spec}: POISONED: {Error}", f.Name, r.RecordIndex, r.Kind.ToShortName(), r.LocalTypeName, r.FieldPath ?? r.AccessString, r.Error);
            if (_options.StrictCoreRelocations)
                throw new BpfCoreRelocationException(f.Name, BpfCoreAccess.From(r), $"prog '{f.Name}': {DescribeFailedRelocation(r)}").WithReason(DescribeFailedRelocation(r));
        }
        else
        {
            _log.LogDebug("prog '{Program}': relo #{Relo}: {Kind} {Type} {Spec}: {Old} -> {New}", f.Name, r.RecordIndex, r.Kind.ToShortName(), r.LocalTypeName, r.FieldPath ?? r.AccessString, r.OldValue, r.NewValue);
        }
    }

    private string DescribeFailedRelocation(CoreRelocationResult r)
    {
        string what = r.Kind.IsEnumValueBased() ? "enumerator" : r.Kind.IsTypeBased() ? "type" : "field";
        string target = _targets?.Label ?? "the kernel";
        return $"CO-RE relocation #{r.RecordIndex} ({r.Kind.ToShortName()}) of {what} {r.FieldPath ?? r.AccessString} in {r.LocalTypeName} cannot be resolved against {target}: {r.Error}. " +
               (r.Kind.IsFieldBased()
                   ? "Guard the access with bpf_core_field_exists() (or use a ___flavor struct) so that kernels without the field skip it."
                   : r.Kind.IsEnumValueBased() ? "Guard it with bpf_core_enum_value_exists()." : "Guard it with bpf_core_type_exists().");
    }

    // ================================================================== externs

    private void ResolveExterns()
    {
        if (_spec.Externs.Count == 0)
            return;
        KernelConfig? loadedConfig = null;
        bool configLoaded = false;
        KernelConfig? Config()   // read once, when an extern needs it
        {
            if (!configLoaded)
            {
                loadedConfig = KernelConfig.TryLoad(_options.KernelConfigPath);
                configLoaded = true;
            }
            return loadedConfig;
        }
        List<string>? ksymNames = null;
        for (int i = 0; i < _spec.Externs.Count; i++)
        {
            var e = _spec.Externs[i];
            if (e.Kind == ExternKind.Ksym && !e.IsFunction && e.KsymTypeId == 0)
                (ksymNames ??= new List<string>()).Add(e.Name);
        }
        var kallsyms = ksymNames != null ? Kallsyms.Lookup(ksymNames) : null;
        var kconfig = _obj.TryGetDataSection(".kconfig", out var kcfgSection) ? kcfgSection.StagingBuffer : null;

        for (int i = 0; i < _spec.Externs.Count; i++)
        {
            try
            {
                var e = _spec.Externs[i];
                if (e.Kind == ExternKind.Kconfig)
                {
                    string? value = null;
                    if (e.Name.StartsWith("LINUX_", StringComparison.Ordinal))
                    {
                        value = e.Name switch
                        {
                            "LINUX_KERNEL_VERSION" => KernelInfo.VersionCode.ToString(CultureInfo.InvariantCulture),
                            "LINUX_HAS_BPF_COOKIE" => _features.BpfCookie ? "y" : "n",
                            "LINUX_HAS_SYSCALL_WRAPPER" => HasSyscallWrapper() ? "y" : "n",
                            // An unknown virtual extern reads as 0 when it is __weak, as libbpf does (a newer libbpf's
                            // LINUX_ name on an older loader); a strong one is an error.
                            _ => e.IsWeak ? null : throw new BpfException($"extern (kcfg) '{e.Name}': unknown LINUX_ extern (known: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER); declare it __weak to read it as 0"),
                        };
                    }
                    else if (_options.KernelConfigOverrides != null && _options.KernelConfigOverrides.TryGetValue(e.Name, out var ov))
                    {
                        value = ov;
                    }
                    else
                    {
                        var config = Config();
                        if (config != null && config.TryGet(e.Name, out var cv))
                            value = cv;
                        else if (!e.IsWeak)
                            throw new BpfException(config == null
                                ? $"extern (kcfg) '{e.Name}': the kernel configuration is not available (no {(_options.KernelConfigPath ?? "/proc/config.gz or /boot/config-" + KernelInfo.Release)}); give it with BpfObjectOptions.KernelConfigPath or KernelConfigOverrides, or declare the extern __weak"
                                : $"extern (kcfg) '{e.Name}' is not set in the kernel configuration ({config.Source}); declare it __weak to accept a default of 0");
                    }
                    if (value != null)
                    {
                        WriteKconfig(e, value, kconfig!);
                        _externs[i].IsSet = true;
                    }
                    _log.LogDebug("extern (kcfg) '{Name}' = {Value}", e.Name, value ?? "(unset, 0)");
                }
                else if (!e.IsFunction && e.KsymTypeId == 0)
                {
                    if (kallsyms != null && kallsyms.TryGetValue(e.Name, out ulong addr))
                    {
                        _externs[i].IsSet = true;
                        _externs[i].Address = addr;
                    }
                    else if (!e.IsWeak)
                    {
                        var config = Config();
                        // Without CONFIG_KALLSYMS_ALL, /proc/kallsyms lists functions only: a data symbol is never there.
                        if (config != null && !(config.TryGet("CONFIG_KALLSYMS_ALL", out var all) && all == "y"))
                            throw BpfNotSupportedException.Configuration("data symbols in /proc/kallsyms",
                                $"extern (ksym) '{e.Name}': not found in /proc/kallsyms, which lists no data symbols on this kernel ({KernelInfo.Release}): it is built without CONFIG_KALLSYMS_ALL ({config.Source}); declare the extern __weak if it is optional");
                        throw new BpfException($"extern (ksym) '{e.Name}': not found in /proc/kallsyms; declare it __weak if it is optional");
                    }
                    _log.LogDebug("extern (ksym) '{Name}': address 0x{Addr:x}", e.Name, _externs[i].Address);
                }
                else
                {
                    ResolveBtfKsym(i, e);
                }
            }
            catch (BpfException ex) when (_continue)
            {
                // Continuing on failure: the programs that use this extern fail with it (FillReferences).
                _externErrors[i] = ex.About(objectName: _spec.Name);
            }
        }
    }

    private static bool HasSyscallWrapper()
    {
        string? prefix = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "__x64_",
            System.Runtime.InteropServices.Architecture.X86 => "__ia32_",
            System.Runtime.InteropServices.Architecture.Arm64 => "__arm64_",
            System.Runtime.InteropServices.Architecture.S390x => "__s390x_",
            _ => null,
        };
        return prefix != null && Kallsyms.Contains(prefix + "sys_bpf");
    }

    private static void WriteKconfig(ExternSpec e, string value, byte[] data)
    {
        var dst = data.AsSpan(e.KconfigOffset, e.Size);
        dst.Clear();
        string Err(string why) => $"extern (kcfg) '{e.Name}': value '{value}' {why}";
        if (value == "y" || value == "n" || value == "m")
        {
            char c = value[0];
            switch (e.KconfigKind)
            {
                case KconfigValueKind.Bool:
                    if (c == 'm') throw new BpfException(Err("implies a tristate or char type, but the extern is bool"));
                    dst[0] = c == 'y' ? (byte)1 : (byte)0;
                    return;
                case KconfigValueKind.Tristate:
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(dst, c == 'y' ? 1 : c == 'm' ? 2 : 0);
                    return;
                case KconfigValueKind.Char:
                    dst[0] = (byte)c;
                    return;
                default:
                    throw new BpfException(Err("implies a bool, tristate or char type"));
            }
        }
        if (value.Length >= 2 && value[0] == '"')
        {
            if (e.KconfigKind != KconfigValueKind.CharArray)
                throw new BpfException(Err("is a string, but the extern is not a char array"));
            string s = value.Substring(1, value.Length - 2);
            var bytes = Encoding.UTF8.GetBytes(s);
            int n = Math.Min(bytes.Length, e.Size - 1);
            bytes.AsSpan(0, n).CopyTo(dst);
            return;
        }
        if (e.KconfigKind != KconfigValueKind.Int && e.KconfigKind != KconfigValueKind.Char)
            throw new BpfException(Err("is a number, but the extern is not an integer"));
        ulong num = 0;
        bool ok;
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = ulong.TryParse(value.Substring(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out num);
        else if (value.StartsWith("-", StringComparison.Ordinal))
        {
            ok = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long sv);
            num = (ulong)sv;
        }
        else
            ok = ulong.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out num);
        if (!ok)
            throw new BpfException(Err("is not a number"));
        if (!InRange(num, e.Size, e.IsSigned))
            throw new BpfException(Err($"does not fit in a {e.Size}-byte {(e.IsSigned ? "signed" : "unsigned")} integer"));
        for (int b = 0; b < e.Size; b++)
            dst[b] = (byte)(num >> (8 * b));
    }

    private static bool InRange(ulong v, int size, bool signed)
    {
        if (size >= 8) return true;
        int bits = size * 8;
        if (signed)
        {
            long s = (long)v;
            long lo = -(1L << (bits - 1)), hi = (1L << (bits - 1)) - 1;
            return s >= lo && s <= hi;
        }
        return v >> bits == 0;
    }

    private void ResolveBtfKsym(int index, ExternSpec e)
    {
        var local = _spec.Btf!;
        BtfSpec vmlinux;
        try
        {
            vmlinux = KernelBtf.ForBtfIds(_options.TargetBtfPath);
        }
        catch (BpfEnvironmentException ex)
        {
            if (e.IsWeak) return;
            throw new BpfEnvironmentException($"extern '{e.Name}' needs the kernel's BTF: {ex.Message}", ex);
        }
        var wantKind = e.IsFunction ? BtfKind.Func : BtfKind.Var;
        int id = vmlinux.FindByName(e.Name, wantKind);
        string? module = null;
        BtfSpec found = vmlinux;
        if (id < 0 && _options.TargetBtfPath == null)
        {
            foreach (var m in KernelBtf.Modules(vmlinux))
            {
                var mb = m.Btf;
                int mid = mb.FindByName(e.Name, wantKind);
                if (mid >= mb.FirstTypeId)
                {
                    id = mid;
                    module = m.Name;
                    found = mb;
                    break;
                }
            }
        }
        if (id < 0)
        {
            if (e.IsWeak)
            {
                _log.LogDebug("extern ({Kind} ksym) '{Name}': not found, weak: left unresolved", e.IsFunction ? "func" : "var", e.Name);
                return;
            }
            if (e.IsFunction && _options.TargetBtfPath == null && !_features.KfuncCalls)
                throw KernelFeatures.Missing("kfunc calls (BPF_PSEUDO_KFUNC_CALL)", "5.13", $"extern (func ksym) '{e.Name}' is a kernel function; declare it __weak and guard its call with bpf_ksym_exists() if the program must load without it");
            if (!e.IsFunction && !HasVariables(vmlinux))
                throw BpfNotSupportedException.Configuration("typed ksyms (kernel BTF with VAR types)",
                    $"this kernel does not support typed ksyms (kernel BTF with VAR types): extern (var ksym) '{e.Name}' cannot be resolved, because the BTF of {KernelInfo.Release} describes no variables. " +
                    "Typed ksyms need Linux 5.10 or later whose BTF was generated with per-CPU variables (pahole 1.18 or later; builds of 5.10 to 5.15 with pahole 1.18 to 1.21, " +
                    "such as Debian 11's, leave them out). Declare it untyped (extern const void " + e.Name + " __ksym) to get its address from kallsyms, or __weak if it is optional");
            throw new BpfException($"extern ({(e.IsFunction ? "func" : "var")} ksym) '{e.Name}': not found in the kernel's BTF{(_options.TargetBtfPath == null ? " or module BTFs" : string.Empty)}" +
                (e.IsFunction ? $" (kfuncs come and go with kernel versions: {KernelInfo.Release} does not have this one)" : string.Empty) + "; declare it __weak if it is optional");
        }
        // The declaration must agree with the kernel's type (libbpf checks the same).
        // Variables compare their types with modifiers and typedefs skipped; kfuncs compare their prototypes.
        int localType = e.IsFunction ? ((BtfFunc)local[e.BtfId]).ProtoId : e.KsymTypeId;
        int kernelType = e.IsFunction ? ((BtfFunc)found[id]).ProtoId : found.SkipModifiersAndTypedefs(((BtfVar)found[id]).TypeId);
        if (!CoreCompat.TypesAreCompatible(local, localType, found, kernelType))
            throw new BpfException($"extern ({(e.IsFunction ? "func" : "var")} ksym) '{e.Name}': the declaration {local.Describe(localType)} is not compatible with the kernel's {found.Describe(kernelType)}{(module != null ? " in module " + module : string.Empty)}");
        _externs[index].IsSet = true;
        _externs[index].BtfId = id;
        if (module != null)
        {
            _btfObjects ??= new KernelBtfObjects(_sys);
            var h = _btfObjects.FindModule(module)
                ?? throw new BpfException($"extern '{e.Name}' is in module '{module}', but the module's BTF object cannot be opened");
            if (e.IsFunction)
            {
                int idx = _fdArray.IndexOf(h.Fd);
                if (idx < 0)
                {
                    idx = _fdArray.Count;
                    _fdArray.Add(h.Fd);
                }
                _externs[index].FdArrayIndex = idx;
            }
            // Calls name the module by its fd_array index, ld_imm64 (a ksym's address, bpf_ksym_exists()) by its fd.
            _externs[index].BtfObjFd = h.Fd;
        }
        _log.LogDebug("extern ({Kind} ksym) '{Name}': resolved to [{Id}] in {Where}", e.IsFunction ? "func" : "var", e.Name, id, module ?? "vmlinux");
    }

    /// <summary>Whether a BTF describes any variable (kernel BTF without them: built with pahole 1.18 to 1.21 on 5.10 to 5.15, or older).</summary>
    private static bool HasVariables(BtfSpec btf)
    {
        for (int id = btf.FirstTypeId; id < btf.TypeCount; id++)
            if (btf.GetKind(id) == BtfKind.Var) return true;
        return false;
    }

    // ================================================================== BTF

    private void LoadBtf()
    {
        var btf = _spec.Btf;
        if (btf == null)
            return;
        if (!_features.Btf)
        {
            _log.LogDebug("kernel does not support BTF: loading without it");
            return;
        }
        byte[] bytes;
        try
        {
            bytes = BuildKernelBtf(btf);
        }
        catch (BpfFormatException ex)
        {
            _log.LogWarning("object BTF cannot be prepared for the kernel ({Error}); loading without BTF", ex.Message);
            return;
        }
        var log = new byte[64 * 1024];
        var h = BpfSys.BtfLoad(_sys, bytes, Span<byte>.Empty, 0, out int errno);
        if (h == null)
        {
            BpfSys.BtfLoad(_sys, bytes, log, 1, out _)?.Dispose();
            string text = Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
            _log.LogWarning("BPF_BTF_LOAD failed ({Errno}): {Log}; continuing without BTF (no func/line info, no BTF-typed maps)", Errno.Name(errno), text);
            return;
        }
        _obj.BtfHandle = h;
        _log.LogDebug("object BTF loaded ({Bytes} bytes)", bytes.Length);
    }

    /// <summary>The object's BTF as the kernel should see it: datasecs completed, externs laid out, sanitised.</summary>
    private byte[] BuildKernelBtf(BtfSpec btf)
    {
        var elf = _spec.Elf;
        byte[] fixedBytes = BtfSanitizer.FixupDatasecs(btf,
            name => elf.FindSection(name) is { } s ? (uint?)s.Size : null,
            name => FindGlobalSymbolValue(name),
            name => IsHiddenSymbol(name));
        var spec = BtfSpec.Parse(fixedBytes);
        var rw = new BtfRewriter(spec);
        bool changed = false;

        // Hidden (or static-by-visibility) global functions become static, as libbpf does.
        foreach (var f in _spec.Functions)
        {
            if (f.BtfFuncId > 0 && f.Binding != Elf.ElfSymbolBinding.Local && f.IsHidden)
            {
                var r = rw[f.BtfFuncId];
                if (r.Kind == BtfKind.Func && r.Vlen == (int)BtfFuncLinkage.Global)
                {
                    r.Vlen = (int)BtfFuncLinkage.Static;
                    changed = true;
                }
            }
        }

        int intId = -1;
        for (int id = 1; id < spec.TypeCount; id++)
        {
            if (spec.GetKind(id) != BtfKind.Datasec) continue;
            string name = spec.GetName(id);
            var ds = rw[id];
            if (name == ".kconfig")
            {
                uint size = 0;
                for (int j = 0; j < ds.Vlen; j++)
                {
                    int vt = (int)ds.Extra[j * 3];
                    string vn = spec.GetName(vt);
                    ExternSpec? ext = null;
                    foreach (var e in _spec.Externs) if (e.Kind == ExternKind.Kconfig && e.Name == vn) { ext = e; break; }
                    if (ext == null) continue;
                    ds.Extra[j * 3 + 1] = (uint)ext.KconfigOffset;
                    ds.Extra[j * 3 + 2] = (uint)ext.Size;
                    var v = rw[vt];
                    v.Extra[0] = (uint)BtfVarLinkage.GlobalAllocated;
                    size = Math.Max(size, (uint)(ext.KconfigOffset + ext.Size));
                }
                ds.SizeOrType = size;
                changed = true;
            }
            else if (name == ".ksyms")
            {
                // The kernel wants allocated variables: each extern becomes a 4-byte int variable.
                if (intId < 0) intId = FindOrAddInt(rw, spec);
                uint off = 0;
                for (int j = 0; j < ds.Vlen; j++)
                {
                    int vt = (int)ds.Extra[j * 3];
                    var v = rw[vt];
                    if (v.Kind == BtfKind.Func)
                    {
                        uint dummyName = (uint)rw.AddString("dummy_ksym");
                        int dummy = rw.Append(dummyName, BtfKind.Var, 0, false, (uint)intId, new uint[] { (uint)BtfVarLinkage.GlobalAllocated });
                        ds.Extra[j * 3] = (uint)dummy;
                        // The kernel refuses extern FUNCs and unnamed parameters of global ones (as libbpf fixes up).
                        v.Vlen = (int)BtfFuncLinkage.Global;
                        var proto = rw[(int)v.SizeOrType];
                        for (int k = 0; k < proto.Vlen; k++)
                            if (proto.Extra[k * 2 + 1] != 0 && proto.Extra[k * 2] == 0)
                                proto.Extra[k * 2] = dummyName;
                    }
                    else
                    {
                        v.SizeOrType = (uint)intId;
                        v.Extra[0] = (uint)BtfVarLinkage.GlobalAllocated;
                    }
                    ds.Extra[j * 3 + 1] = off;
                    ds.Extra[j * 3 + 2] = 4;
                    off += 4;
                }
                ds.SizeOrType = off;
                changed = true;
            }
            else
            {
                // A data section resized before load: the DATASEC and its last array variable follow.
                var map = _spec.FindDataMap(name);
                if (map == null || !_obj.TryGetDataSection(name, out var section) || section.Size == (int)ds.SizeOrType) continue;
                ResizeDatasec(rw, spec, ds, section);
                changed = true;
            }
        }
        byte[] result = changed ? rw.Build() : fixedBytes;
        var features = _features.BtfFeatureSet;
        var finalSpec = changed ? BtfSpec.Parse(result) : spec;
        if (BtfSanitizer.NeedsSanitizing(finalSpec, features))
        {
            _log.LogDebug("sanitizing object BTF for kernel features {Features}", features);
            result = BtfSanitizer.Sanitize(finalSpec, features);
        }
        return result;
    }

    private static int FindOrAddInt(BtfRewriter rw, BtfSpec spec)
    {
        for (int id = 1; id < spec.TypeCount; id++)
        {
            if (spec.GetKind(id) == BtfKind.Int && spec.GetSizeOrType(id) == 4)
                return id;
        }
        return rw.Append((uint)rw.AddString("int"), BtfKind.Int, 0, false, 4, new uint[] { (1u << 24) | 32u });
    }

    private void ResizeDatasec(BtfRewriter rw, BtfSpec spec, BtfRawRecord ds, BpfDataSection section)
    {
        uint newSize = (uint)section.Size;
        ds.SizeOrType = newSize;
        if (ds.Vlen == 0) return;
        int last = (ds.Vlen - 1) * 3;
        int varId = (int)ds.Extra[last];
        uint varOff = ds.Extra[last + 1];
        int arrId = spec.SkipModifiersAndTypedefs(((BtfVar)spec[varId]).TypeId);
        if (spec[arrId] is BtfArray arr && spec.TryResolveSize(arr.ElementTypeId, out long elemSize) && elemSize > 0 && newSize > varOff && (newSize - varOff) % elemSize == 0)
        {
            uint count = (uint)((newSize - varOff) / elemSize);
            int newArr = rw.Append(0, BtfKind.Array, 0, false, 0, new uint[] { (uint)arr.ElementTypeId, (uint)arr.IndexTypeId, count });
            rw[varId].SizeOrType = (uint)newArr;
            ds.Extra[last + 2] = newSize - varOff;
            _log.LogDebug("section '{Section}' resized to {Size} bytes: last variable's array now has {Count} elements", section.SectionName, newSize, count);
        }
        else
        {
            // Cannot describe the new layout: the map is created without BTF (libbpf does the same).
            section.Map.DropBtf = true;
            _log.LogDebug("section '{Section}' resized to {Size} bytes: its last variable is not an array of a fitting size, the map is created without BTF", section.SectionName, newSize);
        }
    }

    private uint? FindGlobalSymbolValue(string name)
    {
        foreach (var s in _spec.Elf.Symbols)
            if (s.Name == name && s.Type == Elf.ElfSymbolType.Object && !s.IsUndefined) return (uint)s.Value;
        return null;
    }

    private bool IsHiddenSymbol(string name)
    {
        foreach (var s in _spec.Elf.Symbols)
            if (s.Name == name && !s.IsUndefined)
                return s.Visibility == Elf.ElfSymbolVisibility.Hidden || s.Visibility == Elf.ElfSymbolVisibility.Internal;
        return false;
    }
}
