using System;

namespace Ebpf.Core;

/// <summary>Why a CO-RE relocation failed in a way libbpf treats as fatal (the object is refused).</summary>
public enum CoreErrorKind
{
    /// <summary>The access string is malformed or does not fit the local type (libbpf: -EINVAL while parsing the spec).</summary>
    InvalidAccessString,
    /// <summary>The access string, or the target's nesting, is deeper than 64 accessors (libbpf: -E2BIG).</summary>
    AccessTooDeep,
    /// <summary>A type involved has no size, is void, is of an unexpected kind, or its references form a cycle (libbpf: -EINVAL).</summary>
    InvalidType,
    /// <summary>Candidate search is impossible: the local type is anonymous (libbpf: -EINVAL).</summary>
    AnonymousType,
    /// <summary>The relocation kind cannot be applied to this access (e.g. a bitfield shift on an array element) (libbpf: -EINVAL/-EOPNOTSUPP).</summary>
    UnsupportedRelocation,
    /// <summary>A bitfield cannot be read with a single load of at most 8 bytes (libbpf: -E2BIG).</summary>
    BitfieldTooWide,
    /// <summary>Matching a candidate failed with an error (recursion limit, malformed BTF).</summary>
    CandidateMatchFailed,
    /// <summary>Several candidates match with different results (libbpf: "field offset ambiguity" / "relocation decision ambiguity").</summary>
    Ambiguous,
    /// <summary>The instruction is of a class or form a CO-RE relocation cannot patch (libbpf: -EINVAL).</summary>
    UnexpectedInstruction,
    /// <summary>The instruction does not hold the value computed for the local type (libbpf: "unexpected insn #N ... value").</summary>
    InstructionValueMismatch,
    /// <summary>The new offset does not fit the instruction's signed 16-bit offset (libbpf: -ERANGE).</summary>
    OffsetOutOfRange,
    /// <summary>A load/store size cannot be adjusted to the target field size (libbpf: "unexpected mem size" / "invalid new mem size").</summary>
    MemorySizeMismatch,
    /// <summary>The relocation's instruction is outside the instructions it was applied to.</summary>
    InstructionOutOfRange,
    /// <summary>The .BTF.ext record is unusable as such (e.g. its section has an empty name) (libbpf: -EINVAL).</summary>
    InvalidRecord,
}

/// <summary>
/// A CO-RE relocation that libbpf would refuse to load: a malformed access string, an ambiguous match, an
/// instruction that does not hold the expected value, and so on. (An unresolvable relocation is not an error:
/// its instruction is poisoned instead.)
/// </summary>
public sealed class CoreRelocationException : Exception
{
    public CoreRelocationException(CoreErrorKind kind, int errno, string message)
        : base(message)
    {
        Kind = kind;
        Errno = errno;
    }

    public CoreRelocationException(CoreErrorKind kind, int errno, string message, Exception inner)
        : base(message, inner)
    {
        Kind = kind;
        Errno = errno;
    }

    public CoreErrorKind Kind { get; }

    /// <summary>The negative errno libbpf returns in this situation (-22 EINVAL, -7 E2BIG, -34 ERANGE, -95 EOPNOTSUPP).</summary>
    public int Errno { get; }

    internal const int EINVAL = -22;
    internal const int E2BIG = -7;
    internal const int ERANGE = -34;
    internal const int EOPNOTSUPP = -95;
}
