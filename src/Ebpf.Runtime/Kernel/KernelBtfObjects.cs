using System;
using System.Collections.Generic;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf.Kernel;

/// <summary>The kernel's loaded BTF objects (vmlinux and modules), opened by id to find a module's BTF fd.</summary>
internal sealed unsafe class KernelBtfObjects : IDisposable
{
    private readonly Syscalls _sys;
    private Dictionary<string, BpfHandle>? _modules;

    public KernelBtfObjects(Syscalls sys) => _sys = sys;

    /// <summary>The BTF object of kernel module <paramref name="module"/>, or null.</summary>
    public BpfHandle? FindModule(string module)
    {
        if (_modules == null)
            Enumerate();
        return _modules!.TryGetValue(module, out var h) ? h : null;
    }

    private void Enumerate()
    {
        _modules = new Dictionary<string, BpfHandle>(StringComparer.Ordinal);
        uint id = 0;
        var name = new byte[64];
        while (BpfSys.GetNextId(_sys, BpfCommand.BtfGetNextId, id, out uint next) == 0)
        {
            if (next <= id)
                break; // ids only grow: a kernel that says otherwise would keep this loop going forever
            id = next;
            var h = BpfSys.GetFdById(_sys, BpfCommand.BtfGetFdById, id, BpfHandleKind.Btf, out _);
            if (h == null) continue;
            var info = new BtfInfo();
            fixed (byte* pn = name)
            {
                Array.Clear(name, 0, name.Length);
                info.Name = (ulong)pn;
                info.NameLen = (uint)name.Length;
                try
                {
                    BpfSys.GetInfo(_sys, h, ref info);
                }
                catch (BpfSyscallException)
                {
                    h.Dispose();
                    continue;
                }
            }
            int n = Array.IndexOf(name, (byte)0);
            string s = Encoding.UTF8.GetString(name, 0, n < 0 ? name.Length : n);
            if (info.KernelBtf != 0 && s.Length > 0 && s != "vmlinux" && !_modules.ContainsKey(s))
                _modules[s] = h;
            else
                h.Dispose();
        }
    }

    public void Dispose()
    {
        if (_modules == null) return;
        foreach (var h in _modules.Values) h.Dispose();
        _modules = null;
    }
}
