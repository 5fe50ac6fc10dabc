using System;
using Ebpf.Btf;

namespace Ebpf.Core;

/// <summary>
/// Type compatibility and spec matching with libbpf's rules (relo_core.c): bpf_core_types_are_compat,
/// bpf_core_fields_are_compat, bpf_core_match_member, bpf_core_spec_match, bpf_core_types_match.
/// Where libbpf returns a negative error, these throw <see cref="BpfCoreRelocationException"/>; where libbpf would
/// loop forever on cyclic BTF, they stop and throw.
/// </summary>
internal static class CoreCompat
{
    /// <summary>Recursion limit of bpf_core_types_are_compat / bpf_core_types_match (their "level" argument).</summary>
    public const int MaxLevel = 32;

    /// <summary>The per-call "depth" limit of the same functions.</summary>
    public const int MaxDepth = 32;

    public static bool IsAnyEnum(BtfKind k) => k == BtfKind.Enum || k == BtfKind.Enum64;

    public static bool IsComposite(BtfKind k) => k == BtfKind.Struct || k == BtfKind.Union;

    /// <summary>btf_kind_core_compat: same kind, or ENUM and ENUM64 in either order.</summary>
    public static bool KindsCoreCompatible(BtfKind a, BtfKind b) => a == b || (IsAnyEnum(a) && IsAnyEnum(b));

    private static BpfCoreRelocationException Error(CoreErrorKind kind, int errno, string message) => new BpfCoreRelocationException(kind, errno, message);

    public static int Skip(BtfSpec btf, int id)
    {
        if (!btf.TrySkipModsAndTypedefs(id, out int r))
            throw Error(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"type [{id}] does not exist or its modifiers/typedefs form a cycle");
        return r;
    }

    private static int IntOffset(BtfSpec btf, int id) => (int)((btf.GetIntData(id) >> 16) & 0xff);

    private static int IntEncoding(BtfSpec btf, int id) => (int)((btf.GetIntData(id) >> 24) & 0xf);

    /// <summary>Essential-name equality of two names (bytes), as libbpf compares flavoured names.</summary>
    private static bool EssentialNamesEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int la = BtfSpec.EssentialNameLength(a), lb = BtfSpec.EssentialNameLength(b);
        return la == lb && a.Slice(0, la).SequenceEqual(b.Slice(0, lb));
    }

    // ------------------------------------------------------------------ bpf_core_types_are_compat

    /// <summary>
    /// bpf_core_types_are_compat (level 32): the check behind TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET. Names were
    /// matched by the caller; kinds must agree (ENUM/ENUM64 interchangeable), after typedefs and modifiers pointers
    /// and arrays recurse, function prototypes must agree parameter by parameter, INTs must not be old-style
    /// bitfield integers; structs, unions, enums and forward declarations are compatible by name alone.
    /// </summary>
    public static bool TypesAreCompatible(BtfSpec local, int localId, BtfSpec target, int targetId, int level = MaxLevel)
    {
        if (!KindsCoreCompatible(local.GetKind(localId), target.GetKind(targetId)))
            return false;
        int depth = MaxDepth;
        while (true)
        {
            if (--depth < 0)
                throw Error(CoreErrorKind.CandidateMatchFailed, BpfCoreRelocationException.EINVAL, $"type compatibility check of [{localId}] and [{targetId}] is nested deeper than {MaxDepth}");
            localId = Skip(local, localId);
            targetId = Skip(target, targetId);
            var lk = local.GetKind(localId);
            var tk = target.GetKind(targetId);
            if (!KindsCoreCompatible(lk, tk))
                return false;
            switch (lk)
            {
                case BtfKind.Unknown:
                case BtfKind.Struct:
                case BtfKind.Union:
                case BtfKind.Enum:
                case BtfKind.Fwd:
                case BtfKind.Enum64:
                    return true;
                case BtfKind.Int:
                    // Only reject deprecated bitfield-like integers; all other integers are compatible.
                    return IntOffset(local, localId) == 0 && IntOffset(target, targetId) == 0;
                case BtfKind.Ptr:
                    localId = local.GetRefType(localId);
                    targetId = target.GetRefType(targetId);
                    continue;
                case BtfKind.Array:
                    local.GetArrayInfo(localId, out localId, out _);
                    target.GetArrayInfo(targetId, out targetId, out _);
                    continue;
                case BtfKind.FuncProto:
                {
                    int lv = local.GetVlen(localId), tv = target.GetVlen(targetId);
                    if (lv != tv)
                        return false;
                    for (int i = 0; i < lv; i++)
                    {
                        if (level <= 0)
                            throw Error(CoreErrorKind.CandidateMatchFailed, BpfCoreRelocationException.EINVAL, $"function prototypes are nested deeper than {MaxLevel}");
                        int lp = Skip(local, local.GetParamType(localId, i));
                        int tp = Skip(target, target.GetParamType(targetId, i));
                        if (!TypesAreCompatible(local, lp, target, tp, level - 1))
                            return false;
                    }
                    // Tail "recursion" on the return type.
                    localId = Skip(local, local.GetRefType(localId));
                    targetId = Skip(target, target.GetRefType(targetId));
                    continue;
                }
                default:
                    // libbpf warns "unexpected kind %s relocated" and reports no match.
                    return false;
            }
        }
    }

    // ------------------------------------------------------------------ bpf_core_fields_are_compat

    /// <summary>
    /// bpf_core_fields_are_compat: any two structs/unions are compatible; pointers and floats always; enums and
    /// forward declarations when their essential names agree or one is anonymous; integers unless bitfield-like;
    /// arrays by element type.
    /// </summary>
    public static bool FieldsAreCompatible(BtfSpec local, int localId, BtfSpec target, int targetId)
    {
        // libbpf recurses through arrays without a limit; a chain of distinct array types is bounded by the type counts.
        long limit = (long)local.TypeCount + target.TypeCount;
        for (long step = 0; step <= limit; step++)
        {
            localId = Skip(local, localId);
            targetId = Skip(target, targetId);
            var lk = local.GetKind(localId);
            var tk = target.GetKind(targetId);
            if (IsComposite(lk) && IsComposite(tk))
                return true;
            if (!KindsCoreCompatible(lk, tk))
                return false;
            switch (lk)
            {
                case BtfKind.Ptr:
                case BtfKind.Float:
                    return true;
                case BtfKind.Fwd:
                case BtfKind.Enum:
                case BtfKind.Enum64:
                {
                    var ln = local.GetNameBytes(localId);
                    var tn = target.GetNameBytes(targetId);
                    int ll = BtfSpec.EssentialNameLength(ln), tl = BtfSpec.EssentialNameLength(tn);
                    return ll == 0 || tl == 0 || (ll == tl && ln.Slice(0, ll).SequenceEqual(tn.Slice(0, tl)));
                }
                case BtfKind.Int:
                    return IntOffset(local, localId) == 0 && IntOffset(target, targetId) == 0;
                case BtfKind.Array:
                    local.GetArrayInfo(localId, out localId, out _);
                    target.GetArrayInfo(targetId, out targetId, out _);
                    continue;
                default:
                    return false;
            }
        }
        throw Error(CoreErrorKind.CandidateMatchFailed, BpfCoreRelocationException.EINVAL, "array types form a cycle");
    }

    // ------------------------------------------------------------------ bpf_core_match_member

    /// <summary>
    /// bpf_core_match_member: finds the target member named like the local accessor's member, searching anonymous
    /// structs/unions recursively, and extends the target spec (raw spec, bit offset, accessor) on the way.
    /// Returns false when no compatible member exists. State left in <paramref name="spec"/> on failure is what
    /// libbpf leaves.
    /// </summary>
    private static bool MatchMember(BtfSpec local, CoreAccessor localAcc, BtfSpec target, int targetId, CoreSpec spec, ref int nextTargetId)
    {
        targetId = Skip(target, targetId);
        if (!IsComposite(target.GetKind(targetId)))
            return false;

        local.GetMemberRaw(localAcc.TypeId, localAcc.Index, out int localNameOff, out int localMemberType, out _);
        var localName = local.GetStringBytes(localNameOff);

        int n = target.GetVlen(targetId);
        for (int i = 0; i < n; i++)
        {
            uint bitOffset = target.GetMemberBitOffset(targetId, i);
            if (spec.RawLength == CoreSpec.MaxLength)
                throw Error(CoreErrorKind.AccessTooDeep, BpfCoreRelocationException.E2BIG, $"struct/union/array nesting in the target is deeper than {CoreSpec.MaxLength}");

            // Speculate that this member is the one.
            spec.BitOffset = unchecked(spec.BitOffset + bitOffset);
            spec.PushRaw(i);

            target.GetMemberRaw(targetId, i, out int nameOff, out int memberType, out _);
            var targetName = nameOff == 0 ? default : target.GetStringBytes(nameOff);
            if (targetName.IsEmpty)
            {
                // Embedded anonymous struct/union: go deeper.
                if (MatchMember(local, localAcc, target, memberType, spec, ref nextTargetId))
                    return true;
            }
            else if (targetName.SequenceEqual(localName))
            {
                spec.PushAccessor(targetId, i, target.GetString(nameOff));
                nextTargetId = memberType;
                bool compatible = FieldsAreCompatible(local, localMemberType, target, memberType);
                if (!compatible)
                    spec.PopAccessor();
                return compatible;
            }
            // Not the member we look for.
            spec.BitOffset = unchecked(spec.BitOffset - bitOffset);
            spec.PopRaw();
        }
        return false;
    }

    // ------------------------------------------------------------------ bpf_core_spec_match

    /// <summary>
    /// bpf_core_spec_match: tries to match the local spec against one candidate, producing the target spec.
    /// </summary>
    public static bool SpecMatch(CoreSpec localSpec, BtfSpec target, int targetId, out CoreSpec targetSpec)
    {
        targetSpec = new CoreSpec(target, targetId, localSpec.Kind);
        var kind = localSpec.Kind;
        var local = localSpec.Btf;

        if (kind.IsTypeBased())
        {
            return kind == CoreReloKind.TypeMatches
                ? TypesMatch(local, localSpec.RootTypeId, target, targetId)
                : TypesAreCompatible(local, localSpec.RootTypeId, target, targetId);
        }

        var localAcc = localSpec.Accessors[0];
        if (kind.IsEnumValueBased())
        {
            // Has to resolve to an enum; enumerators are matched by essential name.
            targetId = Skip(target, targetId);
            var tk = target.GetKind(targetId);
            if (!IsAnyEnum(tk))
                return false;
            var localName = Utf8.Encode(localAcc.Name ?? string.Empty);
            int localLen = BtfSpec.EssentialNameLength(localName);
            int n = target.GetVlen(targetId);
            for (int i = 0; i < n; i++)
            {
                int nameOff = target.GetEnumeratorNameOffset(targetId, i);
                var targetName = target.GetStringBytes(nameOff);
                if (BtfSpec.EssentialNameLength(targetName) != localLen)
                    continue;
                if (targetName.Slice(0, localLen).SequenceEqual(new ReadOnlySpan<byte>(localName, 0, localLen)))
                {
                    targetSpec.PushAccessor(targetId, i, target.GetString(nameOff));
                    targetSpec.PushRaw(i);
                    return true;
                }
            }
            return false;
        }

        if (!kind.IsFieldBased())
            throw Error(CoreErrorKind.UnsupportedRelocation, BpfCoreRelocationException.EINVAL, $"unknown relocation kind {(uint)kind}");

        for (int i = 0; i < localSpec.Length; i++)
        {
            localAcc = localSpec.Accessors[i];
            targetId = Skip(target, targetId);
            if (localAcc.Name != null)
            {
                if (!MatchMember(local, localAcc, target, targetId, targetSpec, ref targetId))
                    return false;
            }
            else
            {
                // For i == 0 the target is already the "array element" (the root struct itself); later index
                // accessors need the target to be an array.
                if (i > 0)
                {
                    if (target.GetKind(targetId) != BtfKind.Array)
                        return false;
                    target.GetArrayInfo(targetId, out int elem, out uint nelems);
                    bool flex = CoreSpec.IsFlexibleArray(target, targetSpec.Accessors[targetSpec.Length - 1], nelems);
                    if (!flex && (uint)localAcc.Index >= nelems)
                        return false;
                    targetId = Skip(target, elem);
                }
                if (targetSpec.RawLength == CoreSpec.MaxLength)
                    throw Error(CoreErrorKind.AccessTooDeep, BpfCoreRelocationException.E2BIG, $"struct/union/array nesting in the target is deeper than {CoreSpec.MaxLength}");
                targetSpec.PushAccessor(targetId, localAcc.Index, null);
                targetSpec.PushRaw(localAcc.Index);
                long sz = target.LibbpfResolveSize(targetId);
                if (sz < 0)
                    throw Error(CoreErrorKind.InvalidType, (int)sz, $"target type [{targetId}] ({CoreNames.DescribeType(target, targetId)}) has no size");
                targetSpec.BitOffset = unchecked(targetSpec.BitOffset + (uint)((uint)localAcc.Index * sz * 8));
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ bpf_core_types_match

    /// <summary>bpf_core_names_match: an anonymous target only matches an anonymous local; otherwise essential names.</summary>
    private static bool NamesMatch(BtfSpec local, int localNameOff, BtfSpec target, int targetNameOff)
    {
        var ln = localNameOff == 0 ? default : local.GetStringBytes(localNameOff);
        var tn = targetNameOff == 0 ? default : target.GetStringBytes(targetNameOff);
        if (tn.IsEmpty)
            return ln.IsEmpty;
        return EssentialNamesEqual(ln, tn);
    }

    private static bool EnumsMatch(BtfSpec local, int localId, BtfSpec target, int targetId)
    {
        if (local.GetSizeOrType(localId) != target.GetSizeOrType(targetId))
            return false;
        int lv = local.GetVlen(localId), tv = target.GetVlen(targetId);
        if (lv > tv)
            return false;
        // Each local enumerator needs a namesake (by essential name, not value) in the target.
        for (int i = 0; i < lv; i++)
        {
            int ln = local.GetEnumeratorNameOffset(localId, i);
            bool matched = false;
            for (int j = 0; j < tv; j++)
            {
                if (NamesMatch(local, ln, target, target.GetEnumeratorNameOffset(targetId, j)))
                {
                    matched = true;
                    break;
                }
            }
            if (!matched)
                return false;
        }
        return true;
    }

    private static bool CompositesMatch(BtfSpec local, int localId, BtfSpec target, int targetId, bool behindPointer, int level)
    {
        int lv = local.GetVlen(localId), tv = target.GetVlen(targetId);
        if (lv > tv)
            return false;
        // Every local member needs a same-named target member whose type matches.
        for (int i = 0; i < lv; i++)
        {
            local.GetMemberRaw(localId, i, out int lName, out int lType, out _);
            bool matched = false;
            for (int j = 0; j < tv; j++)
            {
                target.GetMemberRaw(targetId, j, out int tName, out int tType, out _);
                if (!NamesMatch(local, lName, target, tName))
                    continue;
                if (TypesMatch(local, lType, target, tType, behindPointer, level - 1))
                {
                    matched = true;
                    break;
                }
            }
            if (!matched)
                return false;
        }
        return true;
    }

    /// <summary>bpf_core_types_match (the stricter TYPE_MATCHES relation), level 32, not behind a pointer.</summary>
    public static bool TypesMatch(BtfSpec local, int localId, BtfSpec target, int targetId) =>
        TypesMatch(local, localId, target, targetId, false, MaxLevel);

    /// <summary>
    /// __bpf_core_types_match: after typedefs and modifiers, names must match (essential names; anonymous only
    /// matches anonymous), kinds must agree (a struct/union behind a pointer may match a forward declaration of
    /// the same flavour, ENUM may match ENUM64), INTs need equal size and signedness, enums equal size and every
    /// local enumerator name present, composites every local member present with a matching type (only name and
    /// kind behind a pointer), arrays equal length, function prototypes equal arity and matching types.
    /// </summary>
    public static bool TypesMatch(BtfSpec local, int localId, BtfSpec target, int targetId, bool behindPointer, int level)
    {
        if (level <= 0)
            throw Error(CoreErrorKind.CandidateMatchFailed, BpfCoreRelocationException.EINVAL, $"type match of [{localId}] and [{targetId}] is nested deeper than {MaxLevel}");
        int depth = MaxDepth;
        while (true)
        {
            if (--depth < 0)
                throw Error(CoreErrorKind.CandidateMatchFailed, BpfCoreRelocationException.EINVAL, $"type match of [{localId}] and [{targetId}] is nested deeper than {MaxDepth}");
            localId = Skip(local, localId);
            targetId = Skip(target, targetId);
            if (!NamesMatch(local, local.GetNameOffset(localId), target, target.GetNameOffset(targetId)))
                return false;
            var lk = local.GetKind(localId);
            var tk = target.GetKind(targetId);
            switch (lk)
            {
                case BtfKind.Unknown:
                    return lk == tk;
                case BtfKind.Fwd:
                {
                    bool lf = local.GetKindFlag(localId);
                    if (behindPointer)
                    {
                        if (lk == tk)
                            return lf == target.GetKindFlag(targetId);
                        // For a forward declaration kind_flag says union (1) or struct (0).
                        return (tk == BtfKind.Struct && !lf) || (tk == BtfKind.Union && lf);
                    }
                    if (lk != tk)
                        return false;
                    return lf == target.GetKindFlag(targetId);
                }
                case BtfKind.Enum:
                case BtfKind.Enum64:
                    if (!IsAnyEnum(tk))
                        return false;
                    return EnumsMatch(local, localId, target, targetId);
                case BtfKind.Struct:
                case BtfKind.Union:
                    if (behindPointer)
                    {
                        if (lk == tk)
                            return true;
                        if (tk != BtfKind.Fwd)
                            return false;
                        return (lk == BtfKind.Union) == target.GetKindFlag(targetId);
                    }
                    if (lk != tk)
                        return false;
                    return CompositesMatch(local, localId, target, targetId, behindPointer, level);
                case BtfKind.Int:
                {
                    if (lk != tk)
                        return false;
                    int ls = IntEncoding(local, localId) & (int)BtfIntEncoding.Signed;
                    int ts = IntEncoding(target, targetId) & (int)BtfIntEncoding.Signed;
                    return local.GetSizeOrType(localId) == target.GetSizeOrType(targetId) && ls == ts;
                }
                case BtfKind.Ptr:
                    if (lk != tk)
                        return false;
                    behindPointer = true;
                    localId = local.GetRefType(localId);
                    targetId = target.GetRefType(targetId);
                    continue;
                case BtfKind.Array:
                {
                    if (lk != tk)
                        return false;
                    local.GetArrayInfo(localId, out int le, out uint ln);
                    target.GetArrayInfo(targetId, out int te, out uint tn);
                    if (ln != tn)
                        return false;
                    localId = le;
                    targetId = te;
                    continue;
                }
                case BtfKind.FuncProto:
                {
                    if (lk != tk)
                        return false;
                    int lv = local.GetVlen(localId), tv = target.GetVlen(targetId);
                    if (lv != tv)
                        return false;
                    for (int i = 0; i < lv; i++)
                    {
                        if (!TypesMatch(local, local.GetParamType(localId, i), target, target.GetParamType(targetId, i), behindPointer, level - 1))
                            return false;
                    }
                    localId = local.GetRefType(localId);
                    targetId = target.GetRefType(targetId);
                    continue;
                }
                default:
                    // libbpf warns "unexpected kind %s relocated" and reports no match.
                    return false;
            }
        }
    }
}
