using System;
using Ebpf.Btf;
using Ebpf.Core;

namespace Ebpf.Core
{
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
        /// <summary>
        /// No candidate in the target kernel matches, and the program cannot do without it: the verifier reached the
        /// poisoned instruction, or strict relocation was asked for (libbpf: the verifier's "invalid func unknown#195896080").
        /// </summary>
        Unresolved,
    }
}

namespace Ebpf
{
    /// <summary>
    /// A CO-RE relocation that stops an object from loading: one libbpf would also refuse (a malformed access string, an
    /// ambiguous match, an instruction that does not hold the value the object says, ...: <see cref="Kind"/> says which),
    /// a relocation that cannot be resolved on this kernel and that the verifier reached (or that
    /// <c>BpfObjectOptions.StrictCoreRelocations</c> makes fatal: <see cref="CoreErrorKind.Unresolved"/>). Names the
    /// program (<see cref="BpfException.ProgramName"/>), the relocation, type and field
    /// (<see cref="BpfException.CoreAccess"/>) and the kernel. (An unresolvable relocation alone is not an error: its
    /// instruction is poisoned, and only a verifier that reaches it refuses the program.)
    /// </summary>
    public sealed class BpfCoreRelocationException : BpfException
    {
        /// <summary>A CO-RE error of the given kind, with libbpf's return code for it.</summary>
        /// <param name="kind">What went wrong.</param>
        /// <param name="errno">libbpf's negative return code in this situation (-22 EINVAL, -7 E2BIG, ...).</param>
        /// <param name="message">The error, naming the relocation, type and field.</param>
        public BpfCoreRelocationException(CoreErrorKind kind, int errno, string message)
            : base(message, null, -errno, null, null)
        {
            Kind = kind;
        }

        /// <summary>A CO-RE error of the given kind caused by <paramref name="inner"/>.</summary>
        /// <param name="kind">What went wrong.</param>
        /// <param name="errno">libbpf's negative return code in this situation (-22 EINVAL, -7 E2BIG, ...).</param>
        /// <param name="message">The error, naming the relocation, type and field.</param>
        /// <param name="inner">The error that caused it.</param>
        public BpfCoreRelocationException(CoreErrorKind kind, int errno, string message, Exception inner)
            : base(message, inner, -errno, null, null)
        {
            Kind = kind;
        }

        /// <summary>
        /// The failure seen from a program: <paramref name="message"/> names it; the kind is <paramref name="inner"/>'s
        /// when it is a CO-RE error, else <see cref="CoreErrorKind.Unresolved"/>; the errno is <paramref name="inner"/>'s
        /// (the verifier's, when it reached a poisoned instruction), else EINVAL.
        /// </summary>
        public BpfCoreRelocationException(string programName, BpfCoreAccess? access, string message, Exception? inner = null)
            : base(message, inner, inner is BpfException { Errno: not 0 } b ? b.Errno : Ebpf.Errno.EINVAL, null, null)
        {
            Kind = inner is BpfCoreRelocationException ci ? ci.Kind : CoreErrorKind.Unresolved;
            About(programName: programName, coreAccess: access ?? (inner as BpfException)?.CoreAccess);
        }

        /// <summary>What went wrong (<see cref="CoreErrorKind.Unresolved"/> for a relocation this kernel cannot satisfy).</summary>
        public CoreErrorKind Kind { get; }

        /// <summary>The errno as libbpf returns it (negative).</summary>
        internal int LibbpfErrno => -Errno;

        internal const int EINVAL = -22;
        internal const int E2BIG = -7;
        internal const int ERANGE = -34;
        internal const int EOPNOTSUPP = -95;
    }

    /// <summary>The CO-RE relocation an error is about: which record, of what kind, on which local type and field, against which kernel.</summary>
    public sealed class BpfCoreAccess
    {
        internal BpfCoreAccess(int relocationIndex, CoreReloKind kind, string localTypeName, string accessString, string? fieldPath, string? target)
        {
            RelocationIndex = relocationIndex;
            Kind = kind;
            LocalTypeName = localTypeName;
            AccessString = accessString;
            FieldPath = fieldPath;
            Target = target;
        }

        /// <summary>The record's index in its section's CO-RE relocations (libbpf's "relo #N").</summary>
        public int RelocationIndex { get; }
        /// <summary>What the relocation computes (field offset, field exists, type size, enum value, ...).</summary>
        public CoreReloKind Kind { get; }
        /// <summary>The local type as libbpf prints it ("struct task_struct___old").</summary>
        public string LocalTypeName { get; }
        /// <summary>The record's access string ("0:1:2").</summary>
        public string AccessString { get; }
        /// <summary>The field the access string spells ("task_struct.real_parent"), when it parsed.</summary>
        public string? FieldPath { get; }
        /// <summary>The kernel BTF the relocation was resolved against ("kernel 6.1.0 (/sys/kernel/btf/vmlinux)").</summary>
        public string? Target { get; }

        internal static BpfCoreAccess From(CoreRelocationResult r) =>
            new BpfCoreAccess(r.RecordIndex, r.Kind, r.LocalTypeName, r.AccessString, r.FieldPath, r.TargetLabel.Length == 0 ? null : r.TargetLabel);

        /// <summary>"relo #3 (byte_off) struct task_struct task_struct.real_parent against kernel 6.1.0 (...)".</summary>
        public override string ToString() =>
            $"relo #{RelocationIndex} ({Kind.ToShortName()}) {LocalTypeName} {FieldPath ?? AccessString}" + (Target != null ? $" against {Target}" : string.Empty);
    }
}
