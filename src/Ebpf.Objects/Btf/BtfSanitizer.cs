using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace Ebpf.Btf;

/// <summary>
/// BTF features a kernel may lack, as libbpf probes them (FEAT_BTF_*). A kernel that loads BTF at all (4.18+)
/// supports INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF and the qualifiers; everything else is listed here.
/// </summary>
[Flags]
public enum BtfFeatures
{
    /// <summary>None of the features below: only the kinds of Linux 4.18.</summary>
    None = 0,

    /// <summary>FUNC and FUNC_PROTO (Linux 5.0).</summary>
    Func = 1 << 0,

    /// <summary>VAR and DATASEC (Linux 5.2).</summary>
    Datasec = 1 << 1,

    /// <summary>FUNC with global linkage (Linux 5.6); without it global functions are made static.</summary>
    FuncGlobalLinkage = 1 << 2,

    /// <summary>FLOAT (Linux 5.13).</summary>
    Float = 1 << 3,

    /// <summary>DECL_TAG (Linux 5.16).</summary>
    DeclTag = 1 << 4,

    /// <summary>TYPE_TAG (Linux 5.17).</summary>
    TypeTag = 1 << 5,

    /// <summary>ENUM64, and kind_flag on ENUM meaning signed (Linux 6.0; libbpf probes both as one feature).</summary>
    Enum64 = 1 << 6,

    /// <summary>DATASEC names starting with '?' (optional-section names; recent kernels only).</summary>
    QmarkDatasec = 1 << 7,

    /// <summary>A current kernel: nothing needs rewriting.</summary>
    All = Func | Datasec | FuncGlobalLinkage | Float | DeclTag | TypeTag | Enum64 | QmarkDatasec,
}

/// <summary>
/// Rewrites an object's BTF for an older kernel, as libbpf does before loading it (bpf_object__sanitize_btf),
/// and fills in what the compiler left out of DATASECs (btf_fixup_datasec).
/// </summary>
/// <remarks>
/// Every type keeps its id and the string section keeps every offset (.BTF.ext func/line info and CO-RE records
/// refer to both): unsupported kinds are replaced one for one by records of the same size:
/// <list type="bullet">
/// <item>VAR and DECL_TAG → INT (1 byte, 8 bits, no encoding), keeping the name;</item>
/// <item>DATASEC → STRUCT with one member per variable (named after it, at offset × 8), '.' and '?' in the name replaced by '_';</item>
/// <item>FUNC_PROTO → ENUM of 4 bytes (parameters become enumerators); FUNC → TYPEDEF;</item>
/// <item>global FUNC → static FUNC; FLOAT → anonymous empty STRUCT of the same size; TYPE_TAG → CONST;</item>
/// <item>signed ENUM → unsigned; ENUM64 → UNION of the same size whose members all have a 1-byte INT type
/// "enum64_placeholder" appended after the last type;</item>
/// <item>a leading '?' in a DATASEC name → '_'.</item>
/// </list>
/// </remarks>
internal static class BtfSanitizer
{
    /// <summary>Name of the INT appended when ENUM64s become unions.</summary>
    public const string Enum64Placeholder = "enum64_placeholder";

    /// <summary>True when <see cref="Sanitize"/> would change anything for a kernel with <paramref name="features"/>.</summary>
    public static bool NeedsSanitizing(BtfSpec spec, BtfFeatures features)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        for (int id = spec.FirstTypeId; id < spec.TypeCount; id++)
        {
            if (Rewrites(spec, id, features))
                return true;
        }
        return false;
    }

    private static bool Has(BtfFeatures f, BtfFeatures flag) => (f & flag) == flag;

    private static bool Rewrites(BtfSpec spec, int id, BtfFeatures f)
    {
        switch (spec.GetKind(id))
        {
            case BtfKind.Var:
            case BtfKind.Datasec:
                return !Has(f, BtfFeatures.Datasec) || (spec.GetKind(id) == BtfKind.Datasec && !Has(f, BtfFeatures.QmarkDatasec) && StartsWithQmark(spec, id));
            case BtfKind.DeclTag:
                return !Has(f, BtfFeatures.DeclTag);
            case BtfKind.FuncProto:
                return !Has(f, BtfFeatures.Func);
            case BtfKind.Func:
                return !Has(f, BtfFeatures.Func) || (!Has(f, BtfFeatures.FuncGlobalLinkage) && spec.GetVlen(id) != 0);
            case BtfKind.Float:
                return !Has(f, BtfFeatures.Float);
            case BtfKind.TypeTag:
                return !Has(f, BtfFeatures.TypeTag);
            case BtfKind.Enum:
                return !Has(f, BtfFeatures.Enum64) && spec.GetKindFlag(id);
            case BtfKind.Enum64:
                return !Has(f, BtfFeatures.Enum64);
            default:
                return false;
        }
    }

    private static bool StartsWithQmark(BtfSpec spec, int id)
    {
        var name = spec.GetNameBytes(id);
        return !name.IsEmpty && name[0] == (byte)'?';
    }

    /// <summary>
    /// Returns the BTF rewritten for a kernel with <paramref name="features"/>: same type ids, same string offsets,
    /// unsupported kinds replaced as libbpf does (see the class remarks). For split BTF only the own types are written.
    /// </summary>
    public static byte[] Sanitize(BtfSpec spec, BtfFeatures features)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        bool hasDatasec = Has(features, BtfFeatures.Datasec);
        bool hasFunc = Has(features, BtfFeatures.Func);
        bool hasFuncGlobal = Has(features, BtfFeatures.FuncGlobalLinkage);
        bool hasFloat = Has(features, BtfFeatures.Float);
        bool hasDeclTag = Has(features, BtfFeatures.DeclTag);
        bool hasTypeTag = Has(features, BtfFeatures.TypeTag);
        bool hasEnum64 = Has(features, BtfFeatures.Enum64);
        bool hasQmark = Has(features, BtfFeatures.QmarkDatasec);

        // Names are patched in place, as libbpf does, so that every other string keeps its offset.
        var strings = spec.OwnStrings.ToArray();
        int strBase = spec.FirstStringOffset;
        var renamed = new Dictionary<int, string>(); // type id -> new name, for names living in the base's strings

        int placeholderId = 0;
        if (!hasEnum64)
        {
            for (int id = spec.FirstTypeId; id < spec.TypeCount; id++)
            {
                if (spec.GetKind(id) == BtfKind.Enum64)
                {
                    placeholderId = spec.TypeCount;
                    break;
                }
            }
        }

        var records = new List<BtfRawRecord>(spec.OwnTypeCount);
        for (int id = spec.FirstTypeId; id < spec.TypeCount; id++)
        {
            var t = BtfRawRecord.Read(spec, id);
            if ((!hasDatasec && t.Kind == BtfKind.Var) || (!hasDeclTag && t.Kind == BtfKind.DeclTag))
            {
                // A 1-byte INT: 4 could fail kernel validation when the variable is smaller.
                t.Kind = BtfKind.Int;
                t.Vlen = 0;
                t.KindFlag = false;
                t.SizeOrType = 1;
                t.SetExtra(new uint[] { 8 });
            }
            else if (!hasDatasec && t.Kind == BtfKind.Datasec)
            {
                ReplaceNameChars(spec, id, strings, strBase, renamed, qmarkPrefixOnly: false);
                var extra = new uint[t.Vlen * 3];
                for (int j = 0; j < t.Vlen; j++)
                {
                    uint vt = t.Extra[j * 3];
                    uint voff = t.Extra[j * 3 + 1];
                    extra[j * 3] = vt == 0 ? 0u : (uint)spec.GetNameOffset((int)vt);
                    extra[j * 3 + 1] = vt;
                    extra[j * 3 + 2] = voff * 8;
                }
                t.Kind = BtfKind.Struct;
                t.KindFlag = false;
                t.SetExtra(extra);
            }
            else if (!hasQmark && t.Kind == BtfKind.Datasec && StartsWithQmark(spec, id))
            {
                ReplaceNameChars(spec, id, strings, strBase, renamed, qmarkPrefixOnly: true);
            }
            else if (!hasFunc && t.Kind == BtfKind.FuncProto)
            {
                t.Kind = BtfKind.Enum;
                t.KindFlag = false;
                t.SizeOrType = 4;
            }
            else if (!hasFunc && t.Kind == BtfKind.Func)
            {
                t.Kind = BtfKind.Typedef;
                t.Vlen = 0;
                t.KindFlag = false;
            }
            else if (!hasFuncGlobal && t.Kind == BtfKind.Func)
            {
                t.Vlen = 0;
                t.KindFlag = false;
            }
            else if (!hasFloat && t.Kind == BtfKind.Float)
            {
                // C compilers reject "float" as a struct name, so the struct is anonymous.
                t.NameOffset = 0;
                t.Kind = BtfKind.Struct;
                t.Vlen = 0;
                t.KindFlag = false;
            }
            else if (!hasTypeTag && t.Kind == BtfKind.TypeTag)
            {
                t.NameOffset = 0;
                t.Kind = BtfKind.Const;
                t.KindFlag = false;
            }
            else if (!hasEnum64 && t.Kind == BtfKind.Enum)
            {
                t.KindFlag = false;
            }
            else if (!hasEnum64 && t.Kind == BtfKind.Enum64)
            {
                var extra = new uint[t.Vlen * 3];
                for (int j = 0; j < t.Vlen; j++)
                {
                    extra[j * 3] = t.Extra[j * 3];
                    extra[j * 3 + 1] = (uint)placeholderId;
                    extra[j * 3 + 2] = 0;
                }
                t.Kind = BtfKind.Union;
                t.KindFlag = false;
                t.SetExtra(extra);
            }
            records.Add(t);
        }

        var b = new BtfBuilder(spec.Base, strings);
        foreach (var t in records)
        {
            int nameOff = renamed.TryGetValue(t.Id, out var newName) ? b.AddString(newName) : (int)t.NameOffset;
            b.AddRaw(nameOff, t.Kind, t.Vlen, t.KindFlag, t.SizeOrType, t.Extra);
        }
        if (placeholderId != 0)
        {
            int got = b.AddInt(Enum64Placeholder, 1);
            if (got != placeholderId)
                throw new InvalidOperationException($"enum64 placeholder got id {got}, expected {placeholderId}");
        }
        return b.Build();
    }

    /// <summary>Replaces '.' and '?' (or only a leading '?') in a type's name with '_', in place when the string is our own.</summary>
    private static void ReplaceNameChars(BtfSpec spec, int id, byte[] strings, int strBase, Dictionary<int, string> renamed, bool qmarkPrefixOnly)
    {
        int off = spec.GetNameOffset(id);
        if (off == 0)
            return;
        if (off >= strBase)
        {
            for (int p = off - strBase; p < strings.Length && strings[p] != 0; p++)
            {
                if (qmarkPrefixOnly)
                {
                    if (strings[p] == (byte)'?') strings[p] = (byte)'_';
                    break;
                }
                if (strings[p] == (byte)'.' || strings[p] == (byte)'?')
                    strings[p] = (byte)'_';
            }
        }
        else
        {
            var name = spec.GetName(id).ToCharArray();
            for (int i = 0; i < name.Length; i++)
            {
                if (qmarkPrefixOnly)
                {
                    if (name[i] == '?') name[i] = '_';
                    break;
                }
                if (name[i] == '.' || name[i] == '?')
                    name[i] = '_';
            }
            renamed[id] = new string(name);
        }
    }

    /// <summary>
    /// Fills in DATASEC sizes and variable offsets that the compiler left at 0, from the ELF: the section's size
    /// (when the DATASEC's size is 0) and each global variable's symbol value (only then). Variables whose symbol has
    /// hidden or internal visibility become static when <paramref name="isHidden"/> says so. .kconfig and .ksyms are
    /// left alone (their layout is decided by the loader). Finally each DATASEC's variables are sorted by offset.
    /// </summary>
    /// <param name="spec">An object's BTF.</param>
    /// <param name="sectionSize">Size of the ELF section with this name, or null when there is none.</param>
    /// <param name="variableOffset">Value (section offset) of the ELF symbol of the global variable with this name, or null.</param>
    /// <param name="isHidden">True when the variable's symbol has STV_HIDDEN or STV_INTERNAL visibility (optional).</param>
    /// <exception cref="BpfObjectFormatException">A section size or a variable's symbol cannot be found, or a DATASEC lists a non-VAR.</exception>
    public static byte[] FixupDatasecs(BtfSpec spec, Func<string, uint?> sectionSize, Func<string, uint?> variableOffset, Func<string, bool>? isHidden = null)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (sectionSize is null) throw new ArgumentNullException(nameof(sectionSize));
        if (variableOffset is null) throw new ArgumentNullException(nameof(variableOffset));

        var records = new BtfRawRecord[spec.OwnTypeCount];
        for (int id = spec.FirstTypeId; id < spec.TypeCount; id++)
            records[id - spec.FirstTypeId] = BtfRawRecord.Read(spec, id);

        BtfRawRecord Own(int id) => id >= spec.FirstTypeId ? records[id - spec.FirstTypeId] : BtfRawRecord.Read(spec, id);

        foreach (var t in records)
        {
            if (t.Kind != BtfKind.Datasec)
                continue;
            string secName = spec.GetName(t.Id);
            int n = t.Vlen;
            if (secName != ".kconfig" && secName != ".ksyms")
            {
                bool fixOffsets = false;
                if (t.SizeOrType == 0)
                {
                    uint? size = sectionSize(secName);
                    if (size is null || size.Value == 0)
                        throw new BpfObjectFormatException($"DATASEC '{secName}' has size 0 and the object has no section of that name with a size");
                    t.SizeOrType = size.Value;
                    fixOffsets = true;
                }
                for (int j = 0; j < n; j++)
                {
                    int vt = (int)t.Extra[j * 3];
                    if (vt == 0 || spec.GetKind(vt) != BtfKind.Var)
                        throw new BpfObjectFormatException($"DATASEC '{secName}' entry {j} is type [{vt}], not a VAR");
                    var v = Own(vt);
                    var linkage = (BtfVarLinkage)v.Extra[0];
                    if (linkage == BtfVarLinkage.Static || linkage == BtfVarLinkage.GlobalExtern)
                        continue;
                    string varName = spec.GetName(vt);
                    uint? off = variableOffset(varName);
                    if (off is null)
                        throw new BpfObjectFormatException($"DATASEC '{secName}': no ELF symbol for variable '{varName}'");
                    if (fixOffsets)
                        t.Extra[j * 3 + 1] = off.Value;
                    if (isHidden != null && isHidden(varName) && vt >= spec.FirstTypeId)
                        v.Extra[0] = (uint)BtfVarLinkage.Static;
                }
            }
            SortByOffset(t.Extra, n);
        }

        var b = new BtfBuilder(spec.Base, spec.OwnStrings);
        foreach (var t in records)
            b.AddRaw((int)t.NameOffset, t.Kind, t.Vlen, t.KindFlag, t.SizeOrType, t.Extra);
        return b.Build();
    }

    /// <summary>Stable sort of (type, offset, size) triples by offset.</summary>
    private static void SortByOffset(uint[] e, int n)
    {
        for (int i = 1; i < n; i++)
        {
            uint t = e[i * 3], o = e[i * 3 + 1], s = e[i * 3 + 2];
            int j = i - 1;
            while (j >= 0 && e[j * 3 + 1] > o)
            {
                e[(j + 1) * 3] = e[j * 3];
                e[(j + 1) * 3 + 1] = e[j * 3 + 1];
                e[(j + 1) * 3 + 2] = e[j * 3 + 2];
                j--;
            }
            e[(j + 1) * 3] = t;
            e[(j + 1) * 3 + 1] = o;
            e[(j + 1) * 3 + 2] = s;
        }
    }
}
