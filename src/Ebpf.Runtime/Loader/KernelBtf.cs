using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf.Loader;

/// <summary>
/// The running kernel's BTF (/sys/kernel/btf/vmlinux), parsed once per process and kept mapped; module BTFs on demand;
/// or a BTF file standing in for the kernel (libbpf's btf_custom_path) for kernels without /sys/kernel/btf.
/// </summary>
public static class KernelBtf
{
    /// <summary>Where the kernel exposes its BTF.</summary>
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly object s_lock = new object();
    private static BtfSpec? s_vmlinux;
    private static IReadOnlyList<CoreModuleBtf>? s_modules;
    private static readonly Dictionary<string, BtfSpec> s_custom = new Dictionary<string, BtfSpec>(StringComparer.Ordinal);

    /// <summary>True when the running kernel exposes its BTF.</summary>
    public static bool IsAvailable => File.Exists(VmlinuxPath);

    /// <summary>The running kernel's BTF, parsed on first use and cached for the life of the process.</summary>
    public static BtfSpec Vmlinux
    {
        get
        {
            var v = s_vmlinux;
            if (v != null) return v;
            lock (s_lock)
            {
                return s_vmlinux ??= LoadRaw(VmlinuxPath, missingHint: true);
            }
        }
    }

    /// <summary>Parses a BTF file the way the loader reads the kernel's: mapped when possible, else read; ".gz" is decompressed.</summary>
    public static BtfSpec LoadFile(string path, BtfSpec? baseSpec = null)
    {
        lock (s_lock)
        {
            if (baseSpec == null && s_custom.TryGetValue(path, out var cached))
                return cached;
            var spec = LoadRaw(path, missingHint: false, baseSpec);
            if (baseSpec == null)
                s_custom[path] = spec;
            return spec;
        }
    }

    internal static BtfSpec LoadRaw(string path, bool missingHint, BtfSpec? baseSpec = null)
    {
        if (!File.Exists(path))
        {
            if (missingHint)
                throw new BpfEnvironmentException($"this kernel has no BTF at {path}: CO-RE needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, " +
                    "or a BTF file for this kernel given as BpfObjectOptions.TargetBtfPath (e.g. from BTFHub or extracted from the kernel image)");
            throw new BpfEnvironmentException($"BTF file '{path}' does not exist");
        }
        try
        {
            if (path.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var fs = File.OpenRead(path);
                using var gz = new GZipStream(fs, CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                return BtfSpec.Parse(ms.ToArray(), baseSpec);
            }
            var mapped = TryMap(path);
            if (mapped != null)
                return BtfSpec.Parse(mapped.Memory, baseSpec);
            return BtfSpec.Parse(ReadAll(path), baseSpec);
        }
        catch (BtfFormatException e)
        {
            throw new BpfEnvironmentException($"'{path}' is not valid BTF: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new BpfEnvironmentException($"'{path}' is not a valid gzip file: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BpfEnvironmentException($"cannot read '{path}': permission denied", e);
        }
    }

    /// <summary>Maps the whole file read-only (kernels from 6.16 allow mapping /sys/kernel/btf/*); null when mapping is refused.</summary>
    private static MappedMemory? TryMap(string path)
    {
        var sys = Syscalls.Default;
        int fd = sys.Open(path, Libc.O_RDONLY);
        if (fd < 0) return null;
        try
        {
            long len = new FileInfo(path).Length;
            if (len <= 0 || len > int.MaxValue) return null;
            var m = MappedMemory.Map(sys, fd, (int)len, Libc.PROT_READ, Libc.MAP_PRIVATE, 0, out _);
            if (m == null) return null;
            return m;
        }
        finally
        {
            sys.Close(fd);
        }
    }

    private static byte[] ReadAll(string path)
    {
        // sysfs binary attributes return at most a page per read(2); read with a large buffer until EOF.
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long len = fs.Length;
        var buf = new byte[len > 0 ? len : 1 << 20];
        int total = 0;
        while (true)
        {
            if (total == buf.Length) Array.Resize(ref buf, buf.Length * 2);
            int n = fs.Read(buf, total, buf.Length - total);
            if (n <= 0) break;
            total += n;
        }
        if (total != buf.Length) Array.Resize(ref buf, total);
        return buf;
    }

    /// <summary>Module BTFs (/sys/kernel/btf/*), each parsed on first use as split BTF on <paramref name="vmlinux"/>.</summary>
    public static IReadOnlyList<CoreModuleBtf> Modules(BtfSpec vmlinux)
    {
        if (!ReferenceEquals(vmlinux, s_vmlinux))
            return Array.Empty<CoreModuleBtf>();
        lock (s_lock)
        {
            if (s_modules != null) return s_modules;
            var list = new List<CoreModuleBtf>();
            try
            {
                var names = new List<string>();
                foreach (var f in Directory.GetFiles("/sys/kernel/btf"))
                {
                    var name = Path.GetFileName(f);
                    if (name != "vmlinux") names.Add(name);
                }
                names.Sort(StringComparer.Ordinal);
                foreach (var name in names)
                {
                    string path = "/sys/kernel/btf/" + name;
                    list.Add(new CoreModuleBtf(name, () => LoadRaw(path, false, vmlinux)));
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return s_modules = list;
        }
    }

    /// <summary>CO-RE targets for the running kernel, or for a BTF file standing in for it.</summary>
    public static CoreTargets Targets(string? customPath)
    {
        if (customPath != null)
            return new CoreTargets(LoadFile(customPath), $"{Path.GetFileName(customPath)} ({customPath})");
        var v = Vmlinux;
        return new CoreTargets(v, $"kernel {KernelInfo.Release} ({VmlinuxPath})", Modules(v));
    }
}
