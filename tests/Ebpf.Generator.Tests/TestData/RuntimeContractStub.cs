// RuntimeContractStub.cs: the parts of the runtime contract the generated code targets that Ebpf.Runtime does not
// implement yet (TEST DATA ONLY, never shipped). The compile tests add every type of this file that the real
// Ebpf.Runtime.dll lacks, and drop those it has: as the runtime implements the contract, this file shrinks to
// nothing by itself; a signature that differs from the real one shows up as a compile error.
#nullable enable
namespace Ebpf
{
    public class BpfHashMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
    {
        public BpfHashMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfPerCpuHashMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
    {
        public BpfPerCpuHashMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfArrayMap<TValue> where TValue : unmanaged
    {
        public BpfArrayMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfPerCpuArrayMap<TValue> where TValue : unmanaged
    {
        public BpfPerCpuArrayMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfLpmTrieMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
    {
        public BpfLpmTrieMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfQueueMap<TValue> where TValue : unmanaged
    {
        public BpfQueueMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfStackMap<TValue> where TValue : unmanaged
    {
        public BpfStackMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfBloomFilterMap<TValue> where TValue : unmanaged
    {
        public BpfBloomFilterMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfStackTraceMap
    {
        public BpfStackTraceMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfProgramArrayMap
    {
        public BpfProgramArrayMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfArrayOfMaps
    {
        public BpfArrayOfMaps(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfHashOfMaps<TKey> where TKey : unmanaged
    {
        public BpfHashOfMaps(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfPerfEventArrayMap
    {
        public BpfPerfEventArrayMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class BpfRingBufferMap
    {
        public BpfRingBufferMap(BpfMap map) => Map = map;
        public BpfMap Map { get; }
    }

    public class TracepointProgram
    {
        public TracepointProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class RawTracepointProgram
    {
        public RawTracepointProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class TracingProgram
    {
        public TracingProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class LsmProgram
    {
        public LsmProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class KprobeProgram
    {
        public KprobeProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class KprobeMultiProgram
    {
        public KprobeMultiProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class UprobeProgram
    {
        public UprobeProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class UsdtProgram
    {
        public UsdtProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class XdpProgram
    {
        public XdpProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class TcProgram
    {
        public TcProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class CgroupProgram
    {
        public CgroupProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class SocketFilterProgram
    {
        public SocketFilterProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class SkLookupProgram
    {
        public SkLookupProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class PerfEventProgram
    {
        public PerfEventProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class IteratorProgram
    {
        public IteratorProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }

    public class SyscallProgram
    {
        public SyscallProgram(BpfProgram program) => Program = program;
        public BpfProgram Program { get; }
    }
}
