using System;
using System.Collections.Generic;
using Ebpf.Btf;

namespace Ebpf.Core;

/// <summary>
/// The outcome of resolving one CO-RE relocation against a target (libbpf's struct bpf_core_relo_res, plus the
/// specs and candidates behind it).
/// </summary>
internal sealed class CoreResolution
{
    internal CoreResolution(CoreReloKind kind, CoreSpec localSpec)
    {
        Kind = kind;
        LocalSpec = localSpec;
        Validate = true;
    }

    public CoreReloKind Kind { get; }

    /// <summary>The value computed from the local BTF: what the instruction must hold before patching (orig_val).</summary>
    public ulong LocalValue { get; internal set; }

    /// <summary>The value computed from the target: what the instruction holds after patching (new_val).</summary>
    public ulong TargetValue { get; internal set; }

    /// <summary>No candidate matched and the kind has no "missing" value: the instruction is to be poisoned.</summary>
    public bool Poison { get; internal set; }

    /// <summary>Whether the instruction's current value must equal <see cref="LocalValue"/> (off for bitfields and type ids).</summary>
    public bool Validate { get; internal set; }

    /// <summary>A load/store of this field cannot be resized to the target field's size (it is poisoned if it is a load/store).</summary>
    public bool FailMemorySizeAdjust { get; internal set; }

    /// <summary>Local field size in bytes for load/store size adjustment (0 when not applicable).</summary>
    public uint LocalSize { get; internal set; }

    /// <summary>Target field size in bytes for load/store size adjustment (0 when not applicable).</summary>
    public uint TargetSize { get; internal set; }

    /// <summary>Local field type behind <see cref="LocalSize"/>.</summary>
    public int LocalFieldTypeId { get; internal set; }

    /// <summary>Target field type behind <see cref="TargetSize"/>.</summary>
    public int TargetFieldTypeId { get; internal set; }

    /// <summary>The parsed local access.</summary>
    public CoreSpec LocalSpec { get; }

    /// <summary>The target access of the first matching candidate, or null when none matched (or for local_type_id).</summary>
    public CoreSpec? TargetSpec { get; internal set; }

    /// <summary>The first matching candidate.</summary>
    public CoreCandidate? Target => TargetSpec == null ? null : Matched.Count > 0 ? Matched[0] : (CoreCandidate?)null;

    /// <summary>The candidates the relocation was matched against (after earlier relocations of the type pruned the list).</summary>
    public IReadOnlyList<CoreCandidate> Candidates { get; internal set; } = Array.Empty<CoreCandidate>();

    /// <summary>The candidates that matched (all with the same result).</summary>
    public IReadOnlyList<CoreCandidate> Matched { get; internal set; } = Array.Empty<CoreCandidate>();

    /// <summary>Why the instruction is to be poisoned, or why a *_exists / type relocation got 0; null otherwise.</summary>
    public string? Reason { get; internal set; }
}

/// <summary>
/// Resolves CO-RE relocations against a target: libbpf's bpf_core_calc_relo_insn and the candidate lookup of
/// bpf_core_resolve_relo, with the same rules, values, poisoning decisions and errors.
/// </summary>
internal static class CoreResolver
{
    private const int EUCLEAN = -117;
    private const int EOPNOTSUPP = BpfCoreRelocationException.EOPNOTSUPP;

    /// <summary>
    /// Resolves one relocation record of <paramref name="localBtf"/> against the cache's targets.
    /// </summary>
    /// <exception cref="BpfCoreRelocationException">Whatever libbpf treats as fatal (the object must be refused).</exception>
    public static CoreResolution Resolve(BtfSpec localBtf, BtfCoreRelo relo, CoreCandidateCache cache)
    {
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (cache is null) throw new ArgumentNullException(nameof(cache));
        if (!localBtf.IsValidStringOffset((int)Math.Min(relo.AccessStringOffset, int.MaxValue)))
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidAccessString, BpfCoreRelocationException.EINVAL, $"access string offset {relo.AccessStringOffset} is outside the BTF string section");
        string access = localBtf.GetString((int)relo.AccessStringOffset);
        return Resolve(localBtf, relo.TypeId, access, relo.Kind, cache, relo.InstructionIndex);
    }

    /// <summary>Resolves a relocation given by its parts (type id, access string, kind).</summary>
    /// <param name="localBtf">The object's BTF.</param>
    /// <param name="localTypeId">The relocated type's id in <paramref name="localBtf"/>.</param>
    /// <param name="accessString">The record's access string ("0:1:2").</param>
    /// <param name="kind">What the relocation computes.</param>
    /// <param name="cache">The candidate cache of the load (target BTF and per-type candidates).</param>
    /// <param name="instructionIndex">Instruction index, only used in messages.</param>
    public static CoreResolution Resolve(BtfSpec localBtf, int localTypeId, string accessString, CoreReloKind kind, CoreCandidateCache cache, int instructionIndex = 0)
    {
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (accessString is null) throw new ArgumentNullException(nameof(accessString));
        if (cache is null) throw new ArgumentNullException(nameof(cache));
        if (!localBtf.IsValidId(localTypeId))
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"local type id {localTypeId} does not exist");

        lock (cache.Sync)
        {
            // bpf_core_resolve_relo: candidates first (except for local_type_id), then the calculation.
            CandidateList? cands = null;
            if (kind != CoreReloKind.TypeIdLocal)
                cands = cache.GetList(localBtf, localTypeId);
            return Calculate(localBtf, localTypeId, accessString, kind, cands, cache.Targets.Label, instructionIndex);
        }
    }

    private static CoreResolution Calculate(BtfSpec localBtf, int localTypeId, string accessString, CoreReloKind kind,
        CandidateList? cands, string targetLabel, int insnIndex)
    {
        CoreSpec localSpec;
        try
        {
            localSpec = CoreSpec.Parse(localBtf, localTypeId, accessString, kind);
        }
        catch (BpfCoreRelocationException e) when (e.LibbpfErrno != BpfCoreRelocationException.EINVAL)
        {
            // bpf_core_calc_relo_insn reports every spec parsing failure as -EINVAL.
            throw new BpfCoreRelocationException(e.Kind, BpfCoreRelocationException.EINVAL, e.Message, e);
        }

        // local_type_id needs no candidates: the value is the local type id itself, never validated (linking may
        // renumber it).
        if (kind == CoreReloKind.TypeIdLocal)
        {
            return new CoreResolution(kind, localSpec)
            {
                Validate = false,
                LocalValue = (ulong)localTypeId,
                TargetValue = (ulong)localTypeId,
            };
        }

        if (localBtf.GetNameBytes(localTypeId).IsEmpty)
            throw new BpfCoreRelocationException(CoreErrorKind.AnonymousType, EOPNOTSUPP,
                $"<{kind.ToShortName()}> ({(uint)kind}) relocation doesn't support anonymous types");

        var considered = new CoreCandidate[cands!.Count];
        Array.Copy(cands.Items, considered, cands.Count);

        CoreResolution? best = null;
        CoreSpec? bestSpec = null;
        var matched = new List<CoreCandidate>();
        int j = 0;
        for (int i = 0; i < cands.Count; i++)
        {
            var cand = cands.Items[i];
            CoreSpec candSpec;
            bool isMatch;
            try
            {
                isMatch = CoreCompat.SpecMatch(localSpec, cand.Btf, cand.TypeId, out candSpec);
            }
            catch (BpfCoreRelocationException e)
            {
                throw new BpfCoreRelocationException(e.Kind == CoreErrorKind.AccessTooDeep ? e.Kind : CoreErrorKind.CandidateMatchFailed, e.LibbpfErrno,
                    $"error matching candidate #{i} {cand}: {e.Message}", e);
            }
            if (!isMatch)
                continue;

            var candRes = CalcRelo(kind, insnIndex, localSpec, candSpec);
            if (j == 0)
            {
                best = candRes;
                bestSpec = candSpec;
            }
            else if (candSpec.BitOffset != bestSpec!.BitOffset)
            {
                throw new BpfCoreRelocationException(CoreErrorKind.Ambiguous, BpfCoreRelocationException.EINVAL,
                    $"field offset ambiguity: {candSpec.BitOffset} != {bestSpec.BitOffset} (candidates {cand} and {matched[0]})");
            }
            else if (candRes.Poison != best!.Poison || candRes.TargetValue != best.TargetValue)
            {
                throw new BpfCoreRelocationException(CoreErrorKind.Ambiguous, BpfCoreRelocationException.EINVAL,
                    $"relocation decision ambiguity: {(candRes.Poison ? "failure" : "success")} {candRes.TargetValue} != {(best.Poison ? "failure" : "success")} {best.TargetValue} (candidates {cand} and {matched[0]})");
            }
            matched.Add(cand);
            // Prune in place, as libbpf does: the matching candidates move to the front.
            cands.Items[j++] = cands.Items[i];
        }
        // Keep only the matching candidates for later relocations of this type (if any matched).
        if (j > 0)
            cands.Count = j;

        CoreResolution res;
        if (j == 0)
        {
            // No candidate: *_exists and type relocations get 0, everything else poisons the instruction.
            res = CalcRelo(kind, insnIndex, localSpec, null);
            res.Reason = DescribeMiss(localSpec, considered, targetLabel);
        }
        else
        {
            res = best!;
            res.TargetSpec = bestSpec;
        }
        res.Candidates = considered;
        res.Matched = matched.ToArray();
        return res;
    }

    private static string DescribeMiss(CoreSpec local, CoreCandidate[] considered, string label)
    {
        var btf = local.Btf;
        int id = local.RootTypeId;
        string type = CoreNames.DescribeType(btf, id);
        var nameBytes = btf.GetNameBytes(id);
        string essential = Utf8.Decode(nameBytes.Slice(0, BtfSpec.EssentialNameLength(nameBytes)));
        string what = local.Kind.IsFieldBased()
            ? $"field {local.FieldPath} ({local.RawSpecString})"
            : local.Kind.IsEnumValueBased()
                ? $"enumerator {local.EnumeratorName} ({local.FieldPath})"
                : $"type {essential}";
        if (considered.Length == 0)
            return $"{type}: {what} not found in {label}: it has no {btf.GetKind(id).ToLowerName()} named '{essential}'";
        var list = new System.Text.StringBuilder();
        for (int i = 0; i < considered.Length && i < 8; i++)
        {
            if (i > 0) list.Append(", ");
            list.Append(considered[i].ToString());
        }
        if (considered.Length > 8)
            list.Append(", ...");
        string reason = local.Kind.IsFieldBased()
            ? "no candidate has a compatible field at that path"
            : local.Kind.IsEnumValueBased()
                ? "no candidate has that enumerator"
                : local.Kind == CoreReloKind.TypeMatches ? "no candidate matches the local type's shape" : "no candidate is compatible";
        return $"{type}: {what} not found in {label}: {reason} ({considered.Length} candidate{(considered.Length == 1 ? "" : "s")}: {list})";
    }

    // ------------------------------------------------------------------ value calculation

    /// <summary>bpf_core_calc_relo: local and target values for one candidate (or for none).</summary>
    private static CoreResolution CalcRelo(CoreReloKind kind, int insnIndex, CoreSpec localSpec, CoreSpec? targetSpec)
    {
        var res = new CoreResolution(kind, localSpec);
        int err;
        if (kind.IsFieldBased())
        {
            bool validate = true;
            err = CalcFieldRelo(kind, insnIndex, localSpec, out ulong orig, out uint origSz, out int origType, ref validate, true, localSpec.Btf.IsLittleEndian);
            res.LocalValue = orig;
            res.LocalSize = origSz;
            res.LocalFieldTypeId = origType;
            res.Validate = validate;
            if (err == 0)
            {
                bool unused = false;
                err = CalcFieldRelo(kind, insnIndex, targetSpec, out ulong nv, out uint newSz, out int newType, ref unused, false, localSpec.Btf.IsLittleEndian);
                res.TargetValue = nv;
                res.TargetSize = newSz;
                res.TargetFieldTypeId = newType;
            }
            if (err == 0 && res.LocalSize != res.TargetSize)
            {
                // Resizing a load/store is safe only for pointers (a 32-bit kernel pointer read zero-extended) and
                // unsigned integers; anything else would read a wrong value, so the load/store gets poisoned.
                var lb = localSpec.Btf;
                var tb = targetSpec!.Btf;
                var lk = lb.GetKind(res.LocalFieldTypeId);
                var tk = tb.GetKind(res.TargetFieldTypeId);
                bool ok = (lk == BtfKind.Ptr && tk == BtfKind.Ptr)
                    || (lk == BtfKind.Int && tk == BtfKind.Int
                        && ((lb.GetIntData(res.LocalFieldTypeId) >> 24) & 0xf) != (uint)BtfIntEncoding.Signed
                        && ((tb.GetIntData(res.TargetFieldTypeId) >> 24) & 0xf) != (uint)BtfIntEncoding.Signed);
                res.FailMemorySizeAdjust = !ok;
            }
        }
        else if (kind.IsTypeBased())
        {
            bool validate = true;
            err = CalcTypeRelo(kind, localSpec, out ulong orig, ref validate, true);
            res.LocalValue = orig;
            res.Validate = validate;
            if (err == 0)
            {
                bool unused = false;
                err = CalcTypeRelo(kind, targetSpec, out ulong nv, ref unused, false);
                res.TargetValue = nv;
            }
        }
        else if (kind.IsEnumValueBased())
        {
            err = CalcEnumRelo(kind, localSpec, out ulong orig);
            res.LocalValue = orig;
            if (err == 0)
            {
                err = CalcEnumRelo(kind, targetSpec, out ulong nv);
                res.TargetValue = nv;
            }
        }
        else
        {
            err = EOPNOTSUPP;
        }

        if (err == EUCLEAN)
        {
            res.Poison = true;
        }
        else if (err == EOPNOTSUPP)
        {
            throw new BpfCoreRelocationException(CoreErrorKind.UnsupportedRelocation, EOPNOTSUPP,
                $"unrecognized CO-RE relocation {kind.ToShortName()} ({(uint)kind}) at insn #{insnIndex}");
        }
        return res;
    }

    /// <summary>bpf_core_calc_field_relo. Returns 0, EUCLEAN (poison) or EOPNOTSUPP; throws for the other errors.</summary>
    /// <remarks>
    /// The bitfield left shift depends on byte order; libbpf uses the host's, which for any object it accepts is the
    /// object's (it refuses objects of the other byte order), so the local BTF's byte order is used here.
    /// </remarks>
    private static int CalcFieldRelo(CoreReloKind kind, int insnIndex, CoreSpec? spec, out ulong val, out uint fieldSz, out int typeId,
        ref bool validate, bool setValidate, bool littleEndian)
    {
        val = 0;
        fieldSz = 0;
        typeId = 0;
        if (kind == CoreReloKind.FieldExists)
        {
            val = spec != null ? 1UL : 0UL;
            return 0;
        }
        if (spec == null)
            return EUCLEAN;

        var btf = spec.Btf;
        var acc = spec.Accessors[spec.Length - 1];

        // An a[n] accessor: only its offset and size can be relocated.
        if (acc.Name == null)
        {
            if (kind == CoreReloKind.FieldByteOffset)
            {
                val = spec.BitOffset / 8;
                long sz = btf.LibbpfResolveSize(acc.TypeId);
                if (sz < 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"array element type [{acc.TypeId}] has no size");
                fieldSz = unchecked((uint)sz);
                typeId = acc.TypeId;
            }
            else if (kind == CoreReloKind.FieldByteSize)
            {
                long sz = btf.LibbpfResolveSize(acc.TypeId);
                if (sz < 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"array element type [{acc.TypeId}] has no size");
                val = (ulong)sz;
            }
            else
            {
                throw new BpfCoreRelocationException(CoreErrorKind.UnsupportedRelocation, BpfCoreRelocationException.EINVAL,
                    $"relo {(uint)kind} ({kind.ToShortName()}) at insn #{insnIndex} can't be applied to array access");
            }
            if (setValidate)
                validate = true;
            return 0;
        }

        btf.GetMemberRaw(acc.TypeId, acc.Index, out _, out int memberType, out _);
        int fieldTypeId = CoreCompat.Skip(btf, memberType);
        var mk = btf.GetKind(fieldTypeId);
        uint bitOff = spec.BitOffset;
        uint bitSz = btf.GetMemberBitfieldSize(acc.TypeId, acc.Index);
        bool bitfield = bitSz > 0;
        uint byteSz, byteOff;
        unchecked
        {
            if (bitfield)
            {
                byteSz = btf.GetSizeOrType(fieldTypeId);
                if (byteSz == 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"bitfield type [{fieldTypeId}] has size 0");
                byteOff = bitOff / 8 / byteSz * byteSz;
                // The smallest load (1, 2, 4, 8 bytes) that covers the whole bitfield.
                while (bitOff + bitSz - byteOff * 8 > byteSz * 8)
                {
                    if (byteSz >= 8)
                        throw new BpfCoreRelocationException(CoreErrorKind.BitfieldTooWide, BpfCoreRelocationException.E2BIG,
                            $"relo {(uint)kind} ({kind.ToShortName()}) at insn #{insnIndex} can't be satisfied for bitfield");
                    byteSz *= 2;
                    byteOff = bitOff / 8 / byteSz * byteSz;
                }
            }
            else
            {
                long sz = btf.LibbpfResolveSize(fieldTypeId);
                if (sz < 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"field type [{fieldTypeId}] ({CoreNames.DescribeType(btf, fieldTypeId)}) has no size");
                byteSz = (uint)sz;
                byteOff = spec.BitOffset / 8;
                bitSz = byteSz * 8;
            }

            // For bitfields every relocatable aspect may disagree with the compiler, so only signedness and the
            // right shift are validated.
            if (setValidate)
                validate = !bitfield;

            switch (kind)
            {
                case CoreReloKind.FieldByteOffset:
                    val = byteOff;
                    if (!bitfield)
                    {
                        fieldSz = byteSz;
                        typeId = fieldTypeId;
                    }
                    break;
                case CoreReloKind.FieldByteSize:
                    val = byteSz;
                    break;
                case CoreReloKind.FieldSigned:
                    val = ((CoreCompat.IsAnyEnum(mk) && btf.GetKindFlag(fieldTypeId))
                           || (mk == BtfKind.Int && (((btf.GetIntData(fieldTypeId) >> 24) & (uint)BtfIntEncoding.Signed) != 0))) ? 1UL : 0UL;
                    if (setValidate)
                        validate = true;
                    break;
                case CoreReloKind.FieldLShiftU64:
                    // Little-endian: 64 - (bit_off + bit_sz - byte_off * 8), in u32 arithmetic as libbpf does.
                    val = littleEndian
                        ? (uint)(64u - (bitOff + bitSz - byteOff * 8))
                        : (uint)((8u - byteSz) * 8 + (bitOff - byteOff * 8));
                    break;
                case CoreReloKind.FieldRShiftU64:
                    val = (uint)(64u - bitSz);
                    if (setValidate)
                        validate = true;
                    break;
                default:
                    return EOPNOTSUPP;
            }
        }
        return 0;
    }

    /// <summary>bpf_core_calc_type_relo: type relocations give 0 when the type is missing (never poison).</summary>
    private static int CalcTypeRelo(CoreReloKind kind, CoreSpec? spec, out ulong val, ref bool validate, bool setValidate)
    {
        val = 0;
        if (setValidate)
            validate = true;
        if (spec == null)
            return 0;
        switch (kind)
        {
            case CoreReloKind.TypeIdTarget:
                val = (ulong)spec.RootTypeId;
                // The type id in the instruction may change during linking: not validated.
                if (setValidate)
                    validate = false;
                return 0;
            case CoreReloKind.TypeExists:
            case CoreReloKind.TypeMatches:
                val = 1;
                return 0;
            case CoreReloKind.TypeSize:
            {
                long sz = spec.Btf.LibbpfResolveSize(spec.RootTypeId);
                if (sz < 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL,
                        $"type [{spec.RootTypeId}] ({CoreNames.DescribeType(spec.Btf, spec.RootTypeId)}) has no size");
                val = (ulong)sz;
                return 0;
            }
            default:
                return EOPNOTSUPP;
        }
    }

    /// <summary>bpf_core_calc_enumval_relo.</summary>
    private static int CalcEnumRelo(CoreReloKind kind, CoreSpec? spec, out ulong val)
    {
        val = 0;
        switch (kind)
        {
            case CoreReloKind.EnumValueExists:
                val = spec != null ? 1UL : 0UL;
                return 0;
            case CoreReloKind.EnumValueValue:
            {
                if (spec == null)
                    return EUCLEAN;
                var acc = spec.Accessors[0];
                val = spec.Btf.GetEnumeratorCoreValue(acc.TypeId, acc.Index);
                return 0;
            }
            default:
                return EOPNOTSUPP;
        }
    }
}
