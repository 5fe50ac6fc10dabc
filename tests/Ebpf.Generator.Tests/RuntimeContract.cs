using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Generator.Parser;
using Microsoft.CodeAnalysis;

namespace Ebpf.Generator.Tests;

/// <summary>The runtime API generated code compiles against: the real Ebpf.Runtime.dll.</summary>
public static class RuntimeContract
{
    /// <summary>
    /// Every runtime type the emitter can name: the wrappers chosen from map kinds, and the program wrapper of every
    /// program kind of the section table.
    /// </summary>
    public static readonly string[] TypesTheEmitterUses = new[]
    {
        "Ebpf.IBpfSkeleton`1", "Ebpf.BpfObject", "Ebpf.BpfObjectOptions", "Ebpf.BpfMap", "Ebpf.BpfProgram", "Ebpf.BpfLink", "Ebpf.BpfDataSection",
        "Ebpf.BpfHashMap`2", "Ebpf.BpfPerCpuHashMap`2", "Ebpf.BpfArrayMap`1", "Ebpf.BpfPerCpuArrayMap`1", "Ebpf.BpfLpmTrieMap`2",
        "Ebpf.BpfQueueMap`1", "Ebpf.BpfStackMap`1", "Ebpf.BpfBloomFilterMap`1", "Ebpf.BpfStackTraceMap", "Ebpf.BpfProgramArrayMap",
        "Ebpf.BpfArrayOfMaps", "Ebpf.BpfHashOfMaps`1", "Ebpf.BpfPerfEventArrayMap", "Ebpf.BpfRingBufferMap",
    }.Concat(((ProgramKind[])Enum.GetValues(typeof(ProgramKind))).Select(k => "Ebpf." + SkeletonModelBuilder.ProgramWrapper(k))).Distinct().ToArray();

    public static IEnumerable<MetadataReference> ReferencesFor(string tfm) => tfm switch
    {
        "net8.0" => References.Net80WithRuntime,
        "net10.0" => References.Net100WithRuntime,
        _ => throw new ArgumentException(tfm),
    };
}
