using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ebpf.Generator.Model;

internal enum DiagnosticLevel
{
    Warning,
    Error,
}

/// <summary>
/// One entry of the generator's diagnostic catalog: stable id, severity, title and message format. Roslyn-free, so
/// that <c>dotnet ebpf gen skeleton</c> prints the same messages; <c>DiagnosticDescriptors</c> builds the Roslyn
/// descriptors from it. The README's table is generated from <see cref="All"/> (see the tests).
/// </summary>
internal sealed class DiagnosticKind
{
    private DiagnosticKind(string id, DiagnosticLevel level, string title, string messageFormat, string description)
    {
        Id = id;
        Level = level;
        Title = title;
        MessageFormat = messageFormat;
        Description = description;
    }

    public string Id { get; }
    public DiagnosticLevel Level { get; }
    public string Title { get; }
    /// <summary>A composite format string ({0}, {1}, ...).</summary>
    public string MessageFormat { get; }
    public string Description { get; }

    public string Format(IReadOnlyList<string> args)
    {
        var a = new object[args.Count];
        for (int i = 0; i < a.Length; i++) a[i] = args[i];
        return string.Format(CultureInfo.InvariantCulture, MessageFormat, a);
    }

    // ---------------------------------------------------------------- the catalog (ids are stable: never renumber)

    public static readonly DiagnosticKind NotElf = new DiagnosticKind("EBPF001", DiagnosticLevel.Error,
        "Not an ELF file",
        "'{0}' is not an ELF file: {1}",
        "The BpfObject item must be a BPF object compiled with clang -target bpf.");

    public static readonly DiagnosticKind NotBpf = new DiagnosticKind("EBPF002", DiagnosticLevel.Error,
        "Not a BPF object",
        "'{0}' is not a BPF object: {1}",
        "The file is ELF, but not for the BPF machine (compile with clang -target bpf).");

    public static readonly DiagnosticKind Corrupt = new DiagnosticKind("EBPF003", DiagnosticLevel.Error,
        "Corrupt BPF object",
        "'{0}' cannot be read: {1}",
        "The object is truncated or malformed.");

    public static readonly DiagnosticKind NoBtf = new DiagnosticKind("EBPF004", DiagnosticLevel.Warning,
        "BPF object has no BTF",
        "'{0}' has no BTF (.BTF section): compile it with clang -g (for example clang -g -O2 -target bpf) so that the skeleton can describe its maps, globals and types",
        "Without BTF the generator cannot know map key/value types, global variables or struct layouts: the skeleton is untyped (maps as BpfMap, programs by section, no globals or C types), as bpftool generates it.");

    public static readonly DiagnosticKind NoLicense = new DiagnosticKind("EBPF005", DiagnosticLevel.Warning,
        "BPF object has no license",
        "'{0}' has no \"license\" section: the kernel refuses programs that call GPL-only helpers (add char LICENSE[] SEC(\"license\") = \"GPL\";)",
        "Programs are loaded with the object's license; without one GPL-only helpers (bpf_probe_read_kernel, bpf_trace_printk, ...) are rejected by the verifier.");

    public static readonly DiagnosticKind TypeMismatch = new DiagnosticKind("EBPF006", DiagnosticLevel.Error,
        "C# type does not match the BTF type",
        "{0}: C# type '{1}' does not match BTF type '{2}': {3}",
        "A C# type supplied for a map key, value or ring-buffer event, or a partial struct declared in the skeleton, must have the size and field layout of the BTF type.");

    public static readonly DiagnosticKind WrongMapKind = new DiagnosticKind("EBPF007", DiagnosticLevel.Error,
        "Map used as the wrong kind",
        "Map '{0}' is a {1} map: {2}",
        "The attribute uses the map in a way its kind does not support (ring-buffer events on a hash map, per-CPU values on a plain map, a key on a keyless map).");

    public static readonly DiagnosticKind MapWithoutBtfTypes = new DiagnosticKind("EBPF008", DiagnosticLevel.Warning,
        "Map has no BTF key/value types",
        "Map '{0}' ({1}) declares only key/value sizes ({2}/{3} bytes) and no BTF types: it is exposed as an untyped BpfMap (declare it with __type(key, ...) and __type(value, ...))",
        "Maps defined with __uint(key_size)/__uint(value_size) carry no types, so no typed wrapper can be generated.");

    public static readonly DiagnosticKind NoCoreRelocations = new DiagnosticKind("EBPF009", DiagnosticLevel.Warning,
        "Kernel memory read without CO-RE",
        "'{0}' reads kernel memory ({1} in program '{2}') but has no CO-RE relocations: its offsets are tied to the one kernel layout it was compiled for (use vmlinux.h and BPF_CORE_READ)",
        "Reading kernel structures at hardcoded offsets breaks when the layout changes between kernels (task_struct->comm moved from 0x620 to 0x624 between builds).");

    public static readonly DiagnosticKind NameCollision = new DiagnosticKind("EBPF010", DiagnosticLevel.Warning,
        "Names collide in C#",
        "{0} '{1}' becomes '{2}' in C#, which is already taken by {3}: it is named '{4}'",
        "Two names of the object convert to the same C# identifier; the later one gets a numeric suffix.");

    public static readonly DiagnosticKind UnknownSection = new DiagnosticKind("EBPF011", DiagnosticLevel.Warning,
        "Program section has no attach path",
        "Program '{0}' is in section '{1}', which no known program type or attach path matches: it is exposed as a plain BpfProgram and is not attached by Attach()",
        "libbpf's section table does not know the section name, so neither the program type nor how to attach it can be derived.");

    public static readonly DiagnosticKind CorePreflight = new DiagnosticKind("EBPF012", DiagnosticLevel.Warning,
        "CO-RE relocation fails on a listed kernel",
        "CO-RE relocation of {0} in program '{1}' fails against kernel BTF '{2}': {3}; guard the access with bpf_core_field_exists() (or bpf_core_type_exists()) if the program must run on that kernel",
        "The build resolved the object's CO-RE relocations against each BpfKernelBtf item, as the loader will on that kernel.");

    public static readonly DiagnosticKind UnknownMap = new DiagnosticKind("EBPF013", DiagnosticLevel.Error,
        "Unknown map",
        "'{0}' names map '{1}', which '{2}' does not define (maps: {3})",
        "The attribute on the skeleton class names a map the object does not have.");

    public static readonly DiagnosticKind UnknownType = new DiagnosticKind("EBPF014", DiagnosticLevel.Warning,
        "Type not in BTF",
        "BTF type '{0}' (from {1}) is not in '{2}'",
        "A type named in the Types metadata or an attribute is not in the object's BTF (or is not a struct, union, enum or typedef).");

    public static readonly DiagnosticKind BadKernelBtf = new DiagnosticKind("EBPF015", DiagnosticLevel.Warning,
        "Kernel BTF cannot be read",
        "Kernel BTF '{0}' cannot be read, so the CO-RE pre-flight skips it: {1}",
        "BpfKernelBtf items must be raw BTF (/sys/kernel/btf/vmlinux), optionally gzip-compressed.");

    public static readonly DiagnosticKind BadOption = new DiagnosticKind("EBPF016", DiagnosticLevel.Error,
        "Invalid BpfObject metadata",
        "'{0}': {1}",
        "ClassName must be a C# identifier and Namespace a dotted C# name.");

    public static readonly DiagnosticKind InternalError = new DiagnosticKind("EBPF017", DiagnosticLevel.Error,
        "Skeleton generator failure",
        "The skeleton generator failed on '{0}': {1}",
        "An unexpected error in the generator; please report it with the object file.");

    public static readonly DiagnosticKind DuplicateClass = new DiagnosticKind("EBPF018", DiagnosticLevel.Error,
        "Duplicate skeleton class",
        "'{0}' and '{1}' both generate class '{2}': set ClassName (or Namespace) on one of the BpfObject items",
        "Two BpfObject items produce the same fully qualified skeleton class.");

    public static readonly DiagnosticKind VariantsDiffer = new DiagnosticKind("EBPF019", DiagnosticLevel.Error,
        "Architecture variants differ",
        "'{0}' ({1}) and '{2}' ({3}) are variants of class '{4}' but differ in {5}: both architectures must build the same maps, programs, global variables and types",
        "BpfObject items that share a skeleton class and set different Architecture metadata are one skeleton whose object is chosen at run time; they must have the same shape.");

    public static readonly IReadOnlyList<DiagnosticKind> All = new[]
    {
        NotElf, NotBpf, Corrupt, NoBtf, NoLicense, TypeMismatch, WrongMapKind, MapWithoutBtfTypes, NoCoreRelocations,
        NameCollision, UnknownSection, CorePreflight, UnknownMap, UnknownType, BadKernelBtf, BadOption, InternalError,
        DuplicateClass, VariantsDiffer,
    };

    public static DiagnosticKind ById(string id)
    {
        foreach (var k in All)
            if (k.Id == id) return k;
        throw new ArgumentException("unknown diagnostic id " + id, nameof(id));
    }
}

/// <summary>
/// A diagnostic as the pipeline carries it: id, the file it is about (a path string, turned into a Location only when
/// reported), an optional line span inside a C# file (for attribute-based diagnostics), and the message arguments.
/// </summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, LineSpan? Span, ImmutableEquatableArray<string> Args)
{
    public DiagnosticKind Kind => DiagnosticKind.ById(Id);

    public string Message => Kind.Format(Args);

    public static DiagnosticInfo Create(DiagnosticKind kind, string filePath, params string[] args) =>
        new DiagnosticInfo(kind.Id, filePath, null, args.ToImmutableEquatableArray());

    public static DiagnosticInfo Create(DiagnosticKind kind, string filePath, LineSpan? span, params string[] args) =>
        new DiagnosticInfo(kind.Id, filePath, span, args.ToImmutableEquatableArray());

    public override string ToString() => $"{FilePath}: {(Kind.Level == DiagnosticLevel.Error ? "error" : "warning")} {Id}: {Message}";
}

/// <summary>A text span with its line positions (what Location.Create needs), without Roslyn types.</summary>
internal sealed record LineSpan(int Start, int Length, int StartLine, int StartCharacter, int EndLine, int EndCharacter);
