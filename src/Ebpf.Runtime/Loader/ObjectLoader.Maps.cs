using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Interop;
using Ebpf.Kernel;
using Ebpf.Objects;
using Microsoft.Extensions.Logging;

namespace Ebpf.Loader;

internal sealed unsafe partial class ObjectLoader
{
    private void CreateMaps()
    {
        foreach (var map in _obj.Maps)
        {
            var outcome = Report[map];
            if (outcome.Status == BpfMapLoadStatus.Failed)
                continue; // a struct_ops value this kernel cannot take
            if (map.IsLoaded)
            {
                // ReuseHandle: the caller's map.
                (outcome.Status, outcome.Id, outcome.PinPath) = (BpfMapLoadStatus.Reused, map.Id, map.PinPath);
                continue;
            }
            if (!map.AutoCreate)
            {
                outcome.Status = BpfMapLoadStatus.Skipped;
                continue;
            }
            try
            {
                bool reused = CreateOrReuse(map);
                outcome.Status = reused ? BpfMapLoadStatus.Reused : map.PinPath != null ? BpfMapLoadStatus.Pinned : BpfMapLoadStatus.Created;
                (outcome.Id, outcome.PinPath) = (map.Id, map.PinPath);
            }
            catch (BpfException e) when (MapFailed(map, e))
            {
                CloseFailedMap(map);
            }
        }
        FillMapInMapSlots();
    }

    /// <summary>Creates the map (with its initial data, pinned when it is pinned by name); true when a pinned map was reused instead.</summary>
    private bool CreateOrReuse(BpfMap map)
    {
        var btfFd = _obj.BtfHandle;
        var spec = map.Spec!;
        if (spec.Pinning == MapPinning.ByName && TryReusePinned(map))
            return true;

        BpfHandle? inner = null;
        try
        {
            if (spec.InnerMap != null)
                inner = CreateInnerTemplate(map, spec.InnerMap, btfFd);
            var h = CreateMap(map, spec, btfFd, inner);
            var info = new MapInfo();
            try
            {
                BpfSys.GetInfo(_sys, h, ref info);
            }
            catch
            {
                h.Dispose(); // not yet owned by the map: ReleaseKernelObjects would not close it
                throw;
            }
            map.SetHandle(h, info.Id);
            map.SetMaxEntriesInternal(info.MaxEntries);
            _log.LogDebug("map '{Map}': created ({Type}, key {Key} B, value {Value} B, max_entries {Max}, flags 0x{Flags:x}), id {Id}",
                map.Name, map.Type, map.KeySize, map.ValueSize, map.MaxEntries, map.Flags, info.Id);
        }
        finally
        {
            inner?.Dispose();
        }

        if (spec.IsInternal)
            PopulateDataSection(map);
        if (spec.Pinning == MapPinning.ByName)
        {
            string path = PinPathFor(map);
            BpfSys.ObjPin(_sys, map.Handle, path);
            map.SetPinPath(path);
            _log.LogDebug("map '{Map}': pinned at {Path}", map.Name, path);
        }
        return false;
    }

    private BpfHandle CreateInnerTemplate(BpfMap outer, MapSpec inner, BpfHandle? btf)
    {
        var template = new BpfMap(null, inner, inner.Name, inner.Type, _sys);
        return CreateMap(template, inner, btf, null);
    }

    private BpfHandle CreateMap(BpfMap map, MapSpec spec, BpfHandle? btf, BpfHandle? inner)
    {
        var attr = new MapCreateAttr
        {
            MapType = (uint)map.Type,
            KeySize = map.KeySize,
            ValueSize = map.ValueSize,
            MaxEntries = map.MaxEntries,
            MapFlags = (uint)map.Flags,
            NumaNode = map.NumaNode,
            MapExtra = map.MapExtra,
        };
        switch (map.Type)
        {
            case BpfMapType.PerfEventArray:
                int cpus = KernelInfo.PossibleCpus;
                if (attr.MaxEntries == 0 || attr.MaxEntries > (uint)cpus)
                    attr.MaxEntries = (uint)cpus;
                break;
            case BpfMapType.Ringbuf:
            case BpfMapType.UserRingbuf:
                attr.MaxEntries = RingBufferSize(attr.MaxEntries);
                break;
        }
        if (spec.IsInternal)
        {
            if ((attr.MapFlags & (uint)BpfMapFlags.Mmapable) != 0 && !_features.MmapableArrays)
                attr.MapFlags &= ~(uint)BpfMapFlags.Mmapable;
            if (!_features.GlobalData)
                throw new BpfNotSupportedException("global variables (.data, .rodata, .bss)", "5.2", $"object '{_spec.Name}' uses section '{spec.SectionName}'");
        }
        if (_features.ProgramName)
            BpfSys.WriteName(attr.MapName, map.Name);
        if (inner != null)
            attr.InnerMapFd = (uint)inner.Fd;
        if (map.Type == BpfMapType.StructOps)
            SetStructOpsCreateAttr(map, ref attr);
        bool useBtf = btf != null && !map.DropBtf && (spec.BtfKeyTypeId != 0 || spec.BtfValueTypeId != 0) && SupportsBtfTypes(map.Type);
        if (useBtf)
        {
            attr.BtfFd = (uint)btf!.Fd;
            attr.BtfKeyTypeId = (uint)spec.BtfKeyTypeId;
            attr.BtfValueTypeId = (uint)spec.BtfValueTypeId;
        }
        int fd = BpfSys.Call(_sys, BpfCommand.MapCreate, ref attr);
        if (fd < 0 && useBtf)
        {
            _log.LogDebug("map '{Map}': creation with BTF failed ({Errno}), retrying without BTF", map.Name, Errno.Name(-fd));
            attr.BtfFd = 0;
            attr.BtfKeyTypeId = 0;
            attr.BtfValueTypeId = 0;
            fd = BpfSys.Call(_sys, BpfCommand.MapCreate, ref attr);
        }
        if (fd < 0)
        {
            int errno = -fd;
            if (map.StructOps != null && StructOpsCreateFailure(map, attr, errno) is { } structOpsError)
                throw structOpsError;
            if (errno == Errno.EINVAL && !_features.MapType(map.Type))
                throw KernelFeatures.Missing($"{map.Type} maps ({KernelFeatures.KernelName("BPF_MAP_TYPE_", map.Type.ToString())})", KernelFeatures.MinimumKernel(map.Type), $"map '{map.Name}'");
            return BpfSys.MapCreate(_sys, ref attr, map.Name); // raises the typed error with advice
        }
        return new BpfHandle(fd, BpfHandleKind.Map, _sys);
    }

    /// <summary>libbpf sends no BTF key/value types for these map kinds (the kernel refuses or ignores them).</summary>
    private static bool SupportsBtfTypes(BpfMapType t) => t switch
    {
        BpfMapType.PerfEventArray or BpfMapType.CgroupArray or BpfMapType.StackTrace or BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps
            or BpfMapType.Devmap or BpfMapType.DevmapHash or BpfMapType.Cpumap or BpfMapType.Xskmap or BpfMapType.Sockmap
            or BpfMapType.Sockhash or BpfMapType.Queue or BpfMapType.Stack or BpfMapType.Arena or BpfMapType.Ringbuf
            or BpfMapType.UserRingbuf or BpfMapType.ProgArray or BpfMapType.StructOps => false,
        _ => true,
    };

    /// <summary>A ring buffer's size must be a power-of-two number of pages (libbpf rounds up the same way).</summary>
    internal static uint RingBufferSize(uint requested)
    {
        uint page = (uint)Environment.SystemPageSize;
        if (requested <= page) return page;
        uint size = page;
        while (size < requested && size < (1u << 31)) size <<= 1;
        return size;
    }

    private void PopulateDataSection(BpfMap map)
    {
        if (!_obj.TryGetDataSection(map.Spec!.SectionName, out var section))
            return;
        int key = 0;
        fixed (byte* v = section.StagingBuffer)
        {
            int r = map.UpdateRaw(&key, v, 0);
            if (r < 0) throw map.ElementError(BpfCommand.MapUpdateElem, -r);
        }
        if (section.IsReadOnly && _features.MapFreeze)
        {
            int r = BpfSys.MapFreeze(_sys, map.Fd);
            if (r < 0) throw BpfSys.Error(BpfCommand.MapFreeze, -r, $"on map '{map.Name}'");
        }
        if ((map.Flags & BpfMapFlags.Mmapable) != 0 && _features.MmapableArrays)
        {
            int size = (int)(((map.ValueSize + 7) & ~7u) * Math.Max(1u, map.MaxEntries));
            int page = Environment.SystemPageSize;
            size = (size + page - 1) / page * page;
            int prot = section.IsReadOnly ? Libc.PROT_READ : Libc.PROT_READ | Libc.PROT_WRITE;
            var mapping = MappedMemory.Map(_sys, map.Fd, size, prot, Libc.MAP_SHARED, 0, out int errno);
            if (mapping == null)
                throw new BpfSyscallException("mmap", null, errno, $"mmap of section '{section.SectionName}' (map '{map.Name}') failed: {Errno.Name(errno)} ({Errno.Describe(errno)})");
            // The visible span is the section's size, not the page-rounded mapping.
            section.AttachMapping(new MappedView(mapping, section.Size));
        }
    }

    // ------------------------------------------------------------------ pinning

    private string PinPathFor(BpfMap map)
    {
        string root = _obj.PinRoot.TrimEnd('/');
        if (map.Name.Length == 0 || map.Name.IndexOf('/') >= 0 || map.Name.IndexOf('\0') >= 0 || map.Name == "." || map.Name == "..")
            throw new BpfException($"map '{map.Name}': its name cannot be used as a pin path under '{root}'");
        if (BpfFs.ProblemWith(root) is { } problem)
            throw new BpfEnvironmentException($"map '{map.Name}' is pinned by name, but {problem}");
        return root + "/" + map.Name;
    }

    /// <summary>Reuses a map already pinned at the map's pin path when it is compatible (libbpf's map_is_reuse_compat).</summary>
    private bool TryReusePinned(BpfMap map)
    {
        string path = PinPathFor(map);
        var h = BpfSys.ObjGet(_sys, path, BpfHandleKind.Map, 0, out int errno);
        if (h == null)
        {
            if (errno == Errno.ENOENT) return false;
            throw BpfSys.Error(BpfCommand.ObjGet, errno, $"of pinned map '{path}'");
        }
        var info = new MapInfo();
        try
        {
            BpfSys.GetInfo(_sys, h, ref info);
        }
        catch
        {
            h.Dispose();
            throw;
        }
        uint maxEntries = map.Type == BpfMapType.PerfEventArray && map.MaxEntries == 0 ? (uint)KernelInfo.PossibleCpus
            : map.Type is BpfMapType.Ringbuf or BpfMapType.UserRingbuf ? RingBufferSize(map.MaxEntries) : map.MaxEntries;
        string? diff = null;
        if (info.Type != (uint)map.Type) diff = $"type {(BpfMapType)info.Type} != {map.Type}";
        else if (info.KeySize != map.KeySize) diff = $"key size {info.KeySize} != {map.KeySize}";
        else if (info.ValueSize != map.ValueSize) diff = $"value size {info.ValueSize} != {map.ValueSize}";
        else if (info.MaxEntries != maxEntries) diff = $"max_entries {info.MaxEntries} != {maxEntries}";
        else if (info.MapFlags != (uint)map.Flags) diff = $"map_flags 0x{info.MapFlags:x} != 0x{(uint)map.Flags:x}";
        else if (info.MapExtra != map.MapExtra) diff = $"map_extra {info.MapExtra} != {map.MapExtra}";
        if (diff != null)
        {
            h.Dispose();
            throw new BpfException($"map '{map.Name}': the map pinned at '{path}' is incompatible ({diff}); remove the pin (rm {path}) or change the definition");
        }
        map.SetHandle(h, info.Id);
        map.SetMaxEntriesInternal(info.MaxEntries);
        map.SetPinPath(path);
        _log.LogDebug("map '{Map}': reused the map pinned at {Path} (id {Id})", map.Name, path, info.Id);
        return true;
    }

    // ------------------------------------------------------------------ initial slots

    private void FillMapInMapSlots()
    {
        foreach (var map in _obj.Maps)
        {
            var spec = map.Spec!;
            if (!spec.IsMapInMap || spec.InitialSlots.Count == 0 || !map.IsLoaded) continue;
            try
            {
                foreach (var slot in spec.InitialSlots)
                {
                    var inner = _obj.GetMap(slot.TargetName);
                    int key = slot.Index;
                    if (!inner.IsLoaded)
                        throw Report[inner].Error is { } innerError
                            ? new BpfException($"map '{map.Name}': slot {key} holds inner map '{inner.Name}', which failed: {innerError.Message}", innerError)
                            : new BpfException($"map '{map.Name}': slot {key} holds inner map '{inner.Name}', which was not created (AutoCreate is off)");
                    int fd = inner.Fd;
                    int r = map.UpdateRaw(&key, &fd, 0);
                    if (r < 0)
                        throw BpfSys.Error(BpfCommand.MapUpdateElem, -r, $"of map '{map.Name}' slot {key} (inner map '{inner.Name}')",
                            -r == Errno.E2BIG ? $"slot {key} is beyond max_entries {map.MaxEntries}" : -r == Errno.EINVAL ? $"inner map '{inner.Name}' does not match the outer map's inner template" : null);
                    _log.LogDebug("map '{Map}': slot {Slot} = map '{Inner}'", map.Name, key, inner.Name);
                }
            }
            catch (BpfException e) when (MapFailed(map, e))
            {
                CloseFailedMap(map);
            }
        }
    }

    private void FillProgramArrays()
    {
        foreach (var map in _obj.Maps)
        {
            var spec = map.Spec!;
            if (spec.Type != BpfMapType.ProgArray || spec.InitialSlots.Count == 0 || !map.IsLoaded) continue;
            try
            {
                foreach (var slot in spec.InitialSlots)
                {
                    var prog = _obj.GetProgram(slot.TargetName);
                    if (!prog.IsLoaded)
                    {
                        _log.LogDebug("map '{Map}': slot {Slot} skipped: program '{Prog}' is not loaded", map.Name, slot.Index, prog.Name);
                        continue;
                    }
                    int key = slot.Index;
                    int fd = prog.Fd;
                    int r = map.UpdateRaw(&key, &fd, 0);
                    if (r < 0)
                        throw BpfSys.Error(BpfCommand.MapUpdateElem, -r, $"of prog array '{map.Name}' slot {key} (program '{prog.Name}')",
                            -r == Errno.E2BIG ? $"slot {key} is beyond max_entries {map.MaxEntries}" : -r == Errno.EINVAL ? $"program '{prog.Name}' ({prog.Type}) cannot be a tail call of the programs using this map" : null);
                    _log.LogDebug("map '{Map}': slot {Slot} = program '{Prog}'", map.Name, key, prog.Name);
                }
            }
            catch (BpfException e) when (MapFailed(map, e))
            {
                // The programs loaded with this map keep it in the kernel; this process's handle is closed.
                CloseFailedMap(map);
            }
        }
    }
}

/// <summary>A window of the first <c>length</c> bytes of a mapping (sections are smaller than their page-rounded map).</summary>
internal sealed unsafe class MappedView : System.Buffers.MemoryManager<byte>
{
    private readonly MappedMemory _inner;
    private readonly int _length;

    public MappedView(MappedMemory inner, int length)
    {
        _inner = inner;
        _length = length;
    }

    public override Span<byte> GetSpan() => _inner.GetSpan().Slice(0, _length);
    public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => _inner.Pin(elementIndex);
    public override void Unpin() { }
    protected override void Dispose(bool disposing) => ((IDisposable)_inner).Dispose();
}
