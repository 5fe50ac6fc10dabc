using System;

namespace Ebpf.Btf;

// Helpers for the CO-RE resolver (Ebpf.Core) that reproduce libbpf's own helpers exactly, including their
// depth limits, and that report reference cycles as failures instead of exceptions.
public sealed partial class BtfSpec
{
    /// <summary>libbpf's MAX_RESOLVE_DEPTH, used by btf__resolve_size.</summary>
    internal const int LibbpfMaxResolveDepth = 32;

    private int _libbpfPtrSize; // 0: not determined yet, -1: no "long" type found

    /// <summary>True for CONST, VOLATILE, RESTRICT and TYPE_TAG (libbpf's btf_is_mod).</summary>
    internal static bool IsModifierKind(BtfKind kind) =>
        kind == BtfKind.Const || kind == BtfKind.Volatile || kind == BtfKind.Restrict || kind == BtfKind.TypeTag;

    /// <summary>
    /// libbpf's skip_mods_and_typedefs: follows modifiers and typedefs from <paramref name="id"/>.
    /// Returns false when the id is invalid or the chain never ends (a reference cycle, which would hang libbpf).
    /// A chain without a cycle visits distinct types, so it cannot be longer than the number of types.
    /// </summary>
    internal bool TrySkipModsAndTypedefs(int id, out int resolved)
    {
        resolved = id;
        if (!IsValidId(id))
            return false;
        int limit = TypeCount;
        for (int steps = 0; steps <= limit; steps++)
        {
            var kind = GetKind(resolved);
            if (!IsModifierKind(kind) && kind != BtfKind.Typedef)
                return true;
            resolved = GetRefType(resolved);
            if (!IsValidId(resolved))
                return false;
        }
        return false;
    }

    /// <summary>
    /// btf__resolve_size exactly as libbpf computes it: at most <see cref="LibbpfMaxResolveDepth"/> steps through
    /// typedefs, modifiers, VAR, DECL_TAG and arrays. Returns the size, or a negative errno (-EINVAL, -E2BIG).
    /// </summary>
    internal long LibbpfResolveSize(int id)
    {
        const long EINVAL = -22, E2BIG = -7;
        uint nelems = 1;
        long size = -1;
        for (int i = 0; i < LibbpfMaxResolveDepth && id != 0 && IsValidId(id); i++)
        {
            switch (GetKind(id))
            {
                case BtfKind.Int:
                case BtfKind.Struct:
                case BtfKind.Union:
                case BtfKind.Enum:
                case BtfKind.Enum64:
                case BtfKind.Datasec:
                case BtfKind.Float:
                    size = GetSizeOrType(id);
                    goto done;
                case BtfKind.Ptr:
                    size = LibbpfPointerSize;
                    goto done;
                case BtfKind.Typedef:
                case BtfKind.Volatile:
                case BtfKind.Const:
                case BtfKind.Restrict:
                case BtfKind.Var:
                case BtfKind.DeclTag:
                case BtfKind.TypeTag:
                    id = GetRefType(id);
                    break;
                case BtfKind.Array:
                {
                    var e = GetExtra(id);
                    uint count = ReadU32(e, 8);
                    if (nelems != 0 && count > uint.MaxValue / nelems)
                        return E2BIG;
                    nelems = unchecked(nelems * count);
                    id = (int)ReadU32(e, 0);
                    break;
                }
                default:
                    return EINVAL;
            }
        }
    done:
        if (size < 0)
            return EINVAL;
        if (nelems != 0 && size > uint.MaxValue / nelems)
            return E2BIG;
        return nelems * size;
    }

    /// <summary>
    /// Pointer size as libbpf's btf_ptr_sz determines it: the size of the first 4- or 8-byte INT named like
    /// "long" (any spelling of long / unsigned long), 8 when there is none.
    /// </summary>
    internal int LibbpfPointerSize
    {
        get
        {
            int s = _libbpfPtrSize;
            if (s == 0)
            {
                s = DetermineLibbpfPointerSize();
                _libbpfPtrSize = s;
            }
            return s < 0 ? 8 : s;
        }
    }

    private static readonly string[] LongAliases =
    {
        "long", "long int", "int long", "unsigned long", "long unsigned", "unsigned long int",
        "unsigned int long", "long unsigned int", "long int unsigned", "int unsigned long", "int long unsigned",
    };

    private int DetermineLibbpfPointerSize()
    {
        if (Base != null && Base._libbpfPtrSize > 0)
            return Base._libbpfPtrSize;
        int id = FindLibbpfPointerSizeWitness();
        return id > 0 ? (int)GetSizeOrType(id) : -1;
    }

    /// <summary>The type libbpf's btf_ptr_sz takes the pointer size from (the first 4- or 8-byte INT named like "long"), or -1.</summary>
    internal int FindLibbpfPointerSizeWitness()
    {
        int n = TypeCount;
        for (int id = 1; id < n; id++)
        {
            if (GetKind(id) != BtfKind.Int)
                continue;
            uint size = GetSizeOrType(id);
            if (size != 4 && size != 8)
                continue;
            var name = GetNameBytes(id);
            foreach (var alias in LongAliases)
            {
                if (name.Length == alias.Length && NameEquals(name, alias))
                    return id;
            }
        }
        return -1;
    }

    private static bool NameEquals(ReadOnlySpan<byte> bytes, string ascii)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)ascii[i])
                return false;
        }
        return true;
    }

    /// <summary>The raw 32-bit data word of an INT (encoding, offset, bits).</summary>
    internal uint GetIntData(int id) => ReadU32(GetExtra(id), 0);

    /// <summary>Element type and element count of an ARRAY.</summary>
    internal void GetArrayInfo(int id, out int elementType, out uint count)
    {
        var e = GetExtra(id);
        elementType = (int)ReadU32(e, 0);
        count = ReadU32(e, 8);
    }

    /// <summary>Name offset of enumerator <paramref name="index"/> of an ENUM or ENUM64.</summary>
    internal int GetEnumeratorNameOffset(int id, int index)
    {
        var e = GetExtra(id);
        int stride = GetKind(id) == BtfKind.Enum64 ? 12 : 8;
        return (int)ReadU32(e, index * stride);
    }

    /// <summary>
    /// Value of enumerator <paramref name="index"/> as libbpf reads it for CO-RE: a 32-bit ENUM value is a
    /// signed 32-bit number sign-extended to 64 bits (struct btf_enum.val is __s32); ENUM64 is the raw 64 bits.
    /// </summary>
    internal ulong GetEnumeratorCoreValue(int id, int index)
    {
        var e = GetExtra(id);
        if (GetKind(id) == BtfKind.Enum64)
            return ReadU32(e, index * 12 + 4) | ((ulong)ReadU32(e, index * 12 + 8) << 32);
        return unchecked((ulong)(long)(int)ReadU32(e, index * 8 + 4));
    }

    /// <summary>Parameter <paramref name="index"/> of a FUNC_PROTO: name offset and type.</summary>
    internal int GetParamType(int id, int index) => (int)ReadU32(GetExtra(id), index * 8 + 4);
}
