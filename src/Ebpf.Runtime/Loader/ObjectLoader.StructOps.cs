using System;
using System.Collections.Generic;
using Ebpf.Btf;
using Ebpf.Kernel;
using Ebpf.Objects;
using Microsoft.Extensions.Logging;

namespace Ebpf.Loader;

// struct_ops: the object's value mapped onto the running kernel's struct by member name (libbpf's
// bpf_map__init_kern_struct_ops), the programs verified against the kernel struct's members, the map created with
// the kernel's value type.
internal sealed unsafe partial class ObjectLoader
{
    private const string StructOpsValuePrefix = "bpf_struct_ops_";

    /// <summary>What a struct_ops program is verified against: the kernel struct and the member it implements.</summary>
    private readonly struct StructOpsAttach
    {
        public StructOpsAttach(uint typeId, uint memberIndex, BpfHandle? btfObject, string where)
        {
            TypeId = typeId;
            MemberIndex = memberIndex;
            BtfObject = btfObject;
            Where = where;
        }

        public uint TypeId { get; }
        public uint MemberIndex { get; }
        public BpfHandle? BtfObject { get; }
        public string Where { get; }
    }

    private readonly Dictionary<BpfProgram, StructOpsAttach> _structOpsAttach = new Dictionary<BpfProgram, StructOpsAttach>();
    private readonly Dictionary<BpfMap, (uint ValueTypeId, BpfHandle? Module)> _structOpsMaps = new Dictionary<BpfMap, (uint, BpfHandle?)>();

    /// <summary>Lays out every struct_ops value that will be created, binds its programs and decides their autoload.</summary>
    private void PrepareStructOps()
    {
        var structOps = _obj.StructOps;
        if (structOps.Count == 0)
            return;
        foreach (var ops in structOps)
        {
            if (!ops.Map.AutoCreate || ops.Map.IsLoaded)
                continue;
            try
            {
                PrepareStructOps(ops);
            }
            catch (BpfException e) when (MapFailed(ops.Map, e))
            {
                // Continuing on failure: the map is not created; its programs fail for want of it.
            }
        }
        AdjustStructOpsAutoload();
    }

    private void PrepareStructOps(BpfStructOps ops)
    {
        BtfSpec vmlinux;
        try
        {
            vmlinux = KernelBtf.Vmlinux;
        }
        catch (BpfEnvironmentException e)
        {
            throw new BpfEnvironmentException($"struct_ops map '{ops.Name}' (struct {ops.TypeName}) needs the running kernel's BTF: {e.Message}", e);
        }
        string valueName = StructOpsValuePrefix + ops.TypeName;
        BtfSpec kernel = vmlinux;
        string? module = null;
        int valueTypeId = vmlinux.FindByName(valueName, BtfKind.Struct);
        if (valueTypeId < 0)
        {
            foreach (var m in KernelBtf.Modules(vmlinux))
            {
                int id = m.Btf.FindByName(valueName, BtfKind.Struct);
                if (id >= m.Btf.FirstTypeId)
                {
                    valueTypeId = id;
                    kernel = m.Btf;
                    module = m.Name;
                    break;
                }
            }
        }
        string where = module == null ? $"Linux {KernelInfo.Release}" : $"module '{module}' of Linux {KernelInfo.Release}";
        if (valueTypeId < 0)
            throw new BpfStructOpsException(ops.Name, ops.TypeName, null,
                $"struct_ops map '{ops.Name}': this kernel ({where}) has no struct_ops type '{ops.TypeName}': struct {valueName} is not in its BTF or its modules' BTF" +
                StructOpsTypeHint(ops.TypeName));
        int typeId = kernel.FindByName(ops.TypeName, BtfKind.Struct);
        if (typeId < 0)
            throw new BpfStructOpsException(ops.Name, ops.TypeName, null, $"struct_ops map '{ops.Name}': struct {ops.TypeName} is not in the BTF of {where}, although {valueName} is");
        var vtype = (BtfStruct)kernel[valueTypeId];
        var ktype = (BtfStruct)kernel[typeId];
        int dataOffset = -1;
        foreach (var m in vtype.Members)
        {
            if (m.TypeId == typeId)
            {
                dataOffset = (int)(m.BitOffset / 8);
                break;
            }
        }
        if (dataOffset < 0)
            throw new BpfStructOpsException(ops.Name, ops.TypeName, null, $"struct_ops map '{ops.Name}': struct {valueName} of {where} has no member of type struct {ops.TypeName}");

        BpfHandle? btfObject = null;
        if (module != null)
        {
            _btfObjects ??= new KernelBtfObjects(_sys);
            btfObject = _btfObjects.FindModule(module)
                ?? throw new BpfStructOpsException(ops.Name, ops.TypeName, null, $"struct_ops map '{ops.Name}': struct {ops.TypeName} is in module '{module}', whose BTF object cannot be opened");
        }

        var local = _spec.Btf!;
        var value = new byte[vtype.Size];
        var funcOffsets = new int[ops.Members.Count];
        var data = ops.Data;
        for (int i = 0; i < ops.Members.Count; i++)
        {
            funcOffsets[i] = -1;
            var member = ops.Members[i];
            var program = member.Kind == StructOpsMemberKind.Function ? ops.Programs[i] : null;
            bool zero = member.Kind == StructOpsMemberKind.Function ? program == null : IsZero(data, member);
            int kIndex = FindMember(ktype, member.Name);
            if (kIndex < 0)
            {
                if (!zero)
                    throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name,
                        $"struct_ops map '{ops.Name}': struct {ops.TypeName} of {where} has no member '{member.Name}', which " +
                        (member.Kind == StructOpsMemberKind.Function ? $"points to program '{program!.Name}'" : "is not zero") +
                        (ops.IsSetByUser(i) ? " (set from C#)" : " in the object") + $"; leave it {(member.Kind == StructOpsMemberKind.Function ? "NULL" : "zero")} on kernels without it");
                _log.LogDebug("struct_ops '{Map}': member {Member} is not in {Where}; skipped as it is zero", ops.Name, member.Name, where);
                continue;
            }
            var km = ktype.Members[kIndex];
            if (member.Kind == StructOpsMemberKind.Bitfield || km.BitfieldSize != 0 || km.BitOffset % 8 != 0)
            {
                if (zero && member.Kind == StructOpsMemberKind.Bitfield) continue;
                throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name, $"struct_ops map '{ops.Name}': {ops.TypeName}.{member.Name} is a bitfield (in the object or in {where}), which struct_ops values cannot set");
            }
            int kOffset = dataOffset + (int)(km.BitOffset / 8);
            int localKindId = local.SkipModifiersAndTypedefs(member.BtfTypeId);
            int kernelKindId = kernel.SkipModifiersAndTypedefs(km.TypeId);
            var localKind = local.GetKind(localKindId);
            var kernelKind = kernel.GetKind(kernelKindId);
            if (localKind != kernelKind)
                throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name,
                    $"struct_ops map '{ops.Name}': {ops.TypeName}.{member.Name} is a {localKind.ToLowerName()} in the object but a {kernelKind.ToLowerName()} in {where}");
            if (member.Kind == StructOpsMemberKind.Pointer || member.Kind == StructOpsMemberKind.Function)
            {
                bool kernelFunc = kernel[kernelKindId] is BtfPointer kp && kernel.GetKind(kernel.SkipModifiersAndTypedefs(kp.TargetId)) == BtfKind.FuncProto;
                if (member.Kind == StructOpsMemberKind.Pointer)
                {
                    if (!IsZero(data, member))
                        throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name, $"struct_ops map '{ops.Name}': {ops.TypeName}.{member.Name} is a pointer that is not a callback; it must be NULL");
                    continue;
                }
                if (!kernelFunc)
                    throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name, $"struct_ops map '{ops.Name}': {ops.TypeName}.{member.Name} is a function pointer in the object but not in {where}");
                if (program == null)
                    continue;
                var attach = new StructOpsAttach((uint)typeId, (uint)kIndex, btfObject, where);
                if (_structOpsAttach.TryGetValue(program, out var prior) && (prior.TypeId != attach.TypeId || prior.MemberIndex != attach.MemberIndex || !ReferenceEquals(prior.BtfObject, attach.BtfObject)))
                    throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name,
                        $"struct_ops map '{ops.Name}': program '{program.Name}' would implement {ops.TypeName}.{member.Name} (member #{kIndex} of {where}) but another struct_ops map already uses it for member #{prior.MemberIndex} of another struct; a program implements one member of one struct");
                _structOpsAttach[program] = attach;
                funcOffsets[i] = kOffset;
                _log.LogDebug("struct_ops '{Map}': {Member} -> program '{Program}' (kernel member #{Index}, value offset {Offset})", ops.Name, member.Name, program.Name, kIndex, kOffset);
                continue;
            }
            if (!kernel.TryResolveSize(km.TypeId, out long kSize) || kSize != member.Size)
                throw new BpfStructOpsException(ops.Name, ops.TypeName, member.Name,
                    $"struct_ops map '{ops.Name}': {ops.TypeName}.{member.Name} is {member.Size} bytes in the object but {kSize} bytes in {where}");
            data.Slice(member.Offset, member.Size).CopyTo(value.AsSpan(kOffset, member.Size));
        }
        ops.KernelValue = value;
        ops.KernelFunctionOffsets = funcOffsets;
        ops.KernelLabel = where;
        ops.Map.SetValueSizeInternal((uint)vtype.Size);
        _structOpsMaps[ops.Map] = ((uint)valueTypeId, btfObject);
        _log.LogDebug("struct_ops '{Map}': struct {Type} [{TypeId}], value struct {Value} [{ValueId}] ({Size} bytes) in {Where}", ops.Name, ops.TypeName, typeId, valueName, valueTypeId, vtype.Size, where);
    }

    /// <summary>Known struct_ops types and the first kernel that has each (for the message when the kernel lacks one).</summary>
    private static string StructOpsTypeHint(string type) => type switch
    {
        "tcp_congestion_ops" => " (TCP congestion control as struct_ops needs Linux 5.6 with CONFIG_BPF_JIT and CONFIG_DEBUG_INFO_BTF)",
        "bpf_dummy_ops" => " (bpf_dummy_ops, the BPF_PROG_TEST_RUN test struct, needs Linux 5.17 with CONFIG_NET)",
        "sched_ext_ops" => " (sched_ext needs Linux 6.12 with CONFIG_SCHED_CLASS_EXT)",
        "hid_bpf_ops" => " (HID-BPF struct_ops needs Linux 6.11 with CONFIG_HID_BPF)",
        "Qdisc_ops" => " (qdiscs as struct_ops need Linux 6.16 with CONFIG_NET_SCH_BPF)",
        _ => string.Empty,
    };

    private static int FindMember(BtfStruct type, string name)
    {
        for (int i = 0; i < type.Members.Count; i++)
            if (type.Members[i].Name == name) return i;
        return -1;
    }

    private static bool IsZero(ReadOnlySpan<byte> data, StructOpsMemberSpec m)
    {
        if (m.Size <= 0) return true;
        foreach (byte b in data.Slice(m.Offset, m.Size))
            if (b != 0) return false;
        return true;
    }

    /// <summary>
    /// libbpf's rule: a struct_ops program that some struct_ops map points to is loaded when one of those maps is
    /// created; a program the maps no longer point to (rebound, or its member is not in the kernel) is not loaded.
    /// </summary>
    private void AdjustStructOpsAutoload()
    {
        foreach (var p in _obj.Programs)
        {
            if (p.Type != BpfProgramType.StructOps || p.IsLoaded) continue;
            int uses = 0;
            bool created = false;
            foreach (var ops in _obj.StructOps)
            {
                for (int i = 0; i < ops.Members.Count; i++)
                {
                    if (!ReferenceEquals(ops.Programs[i], p)) continue;
                    uses++;
                    created |= ops.Map.AutoCreate;
                }
            }
            bool wasBound = p.Spec?.StructOps != null;
            if (uses > 0)
                p.SetAutoloadInternal(created);
            else if (wasBound)
                p.SetAutoloadInternal(false);
            if (uses > 0 || wasBound)
                _log.LogDebug("prog '{Program}': struct_ops program {Action}", p.Name, p.Autoload ? "loaded" : "not loaded (no created struct_ops map points to it)");
        }
    }

    /// <summary>attach_btf_id and expected_attach_type of a struct_ops program (the kernel struct and member index).</summary>
    private (uint BtfId, BpfAttachType? Member, BpfHandle? BtfObject) StructOpsTarget(BpfProgram p)
    {
        if (_structOpsAttach.TryGetValue(p, out var a))
            return (a.TypeId, (BpfAttachType)a.MemberIndex, a.BtfObject);
        throw new BpfStructOpsException(null, p.Spec?.StructOps?.TypeName, p.Spec?.StructOps?.MemberName,
            $"prog '{p.Name}': SEC(\"{p.SectionName}\") program is not pointed to by any created struct_ops map, so the kernel cannot verify it " +
            "(use it in a SEC(\".struct_ops\") or SEC(\".struct_ops.link\") variable, or set its Autoload to false)");
    }

    /// <summary>BPF_MAP_CREATE attributes of a struct_ops map: the kernel's value type, from vmlinux or a module.</summary>
    private void SetStructOpsCreateAttr(BpfMap map, ref MapCreateAttr attr)
    {
        if (!_structOpsMaps.TryGetValue(map, out var kv))
            throw new BpfStructOpsException(map.Name, map.StructOps?.TypeName, null, $"struct_ops map '{map.Name}' was not prepared for this kernel");
        // The kernel wants the object's BTF too (it came from a program built with BTF), though no id in it.
        var btf = _obj.BtfHandle ?? throw new BpfStructOpsException(map.Name, map.StructOps?.TypeName, null,
            $"struct_ops map '{map.Name}': the kernel needs the object's BTF with a struct_ops map, but BPF_BTF_LOAD of the object's BTF failed (see the log)");
        attr.BtfFd = (uint)btf.Fd;
        attr.BtfVmlinuxValueTypeId = kv.ValueTypeId;
        if (kv.Module != null)
        {
            attr.ValueTypeBtfObjFd = kv.Module.Fd;
            attr.MapFlags |= (uint)BpfMapFlags.VtypeBtfObjFd;
        }
    }

    /// <summary>Why a struct_ops map could not be created, when the kernel's refusal has a known cause.</summary>
    private Exception? StructOpsCreateFailure(BpfMap map, MapCreateAttr attr, int errno)
    {
        var ops = map.StructOps!;
        if (errno == Errno.EINVAL && (attr.MapFlags & (uint)BpfMapFlags.Link) != 0)
        {
            // Kernels before 6.4 refuse BPF_F_LINK on struct_ops maps: the same map without it tells them apart.
            var probe = attr;
            probe.MapFlags &= ~(uint)BpfMapFlags.Link;
            int fd = BpfSys.Call(_sys, BpfCommand.MapCreate, ref probe);
            if (fd >= 0)
            {
                _sys.Close(fd);
                return new BpfNotSupportedException("struct_ops links (.struct_ops.link maps, BPF_F_LINK)", "6.4",
                    $"struct_ops map '{map.Name}' (struct {ops.TypeName}) is in SEC(\".struct_ops.link\"); on this kernel ({KernelInfo.Release}) declare it in SEC(\".struct_ops\"), which is registered by its map update");
            }
        }
        if (errno == Errno.EINVAL && (attr.MapFlags & (uint)BpfMapFlags.VtypeBtfObjFd) != 0)
            return new BpfNotSupportedException("struct_ops types from kernel modules (BPF_F_VTYPE_BTF_OBJ_FD)", "6.9", $"struct_ops map '{map.Name}' (struct {ops.TypeName}) is defined by a module ({ops.KernelLabel})");
        if (errno == Errno.ENOTSUPP || errno == Errno.EOPNOTSUPP)
            return BpfSys.Error(BpfCommand.MapCreate, errno, $"for struct_ops map '{map.Name}' (struct {ops.TypeName})",
                $"{ops.KernelLabel} has struct {ops.TypeName} but refuses struct_ops maps of it (it may need CONFIG_BPF_JIT, or a JIT that supports BPF trampolines)");
        return null;
    }
}
