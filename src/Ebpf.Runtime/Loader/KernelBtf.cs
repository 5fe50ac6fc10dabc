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
    private static IDisposable? s_vmlinuxMapping;
    private static IReadOnlyList<CoreModuleBtf>? s_modules;
    private static readonly Dictionary<string, BtfSpec> s_custom = new Dictionary<string, BtfSpec>(StringComparer.Ordinal);

    /// <summary>
    /// Where <see cref="Vmlinux"/> is read from: <see cref="VmlinuxPath"/>, except in tests that simulate a kernel
    /// without BTF by pointing it at a file that does not exist. While it points elsewhere the cache is bypassed
    /// (and left intact: specs handed out before stay valid).
    /// </summary>
    internal static string VmlinuxLocation { get; set; } = VmlinuxPath;

    /// <summary>True when the running kernel exposes its BTF.</summary>
    public static bool IsAvailable => File.Exists(VmlinuxLocation);

    /// <summary>The running kernel's BTF, parsed on first use and cached for the life of the process.</summary>
    public static BtfSpec Vmlinux
    {
        get
        {
            if (!string.Equals(VmlinuxLocation, VmlinuxPath, StringComparison.Ordinal))
                return LoadRaw(VmlinuxLocation, missingHint: true);
            var v = s_vmlinux;
            if (v != null) return v;
            lock (s_lock)
            {
                if (s_vmlinux != null) return s_vmlinux;
                var spec = LoadRaw(VmlinuxLocation, missingHint: true, baseSpec: null, out var mapping);
                s_vmlinuxMapping = mapping;
                return s_vmlinux = spec;
            }
        }
    }

    /// <summary>
    /// Drops the cached kernel BTF (vmlinux, modules, custom files) and unmaps vmlinux, so that the next load parses it
    /// again. Only for benchmarks and tests that measure a cold load: nothing may use a spec obtained before the call.
    /// </summary>
    internal static void ResetCacheUnsafe()
    {
        lock (s_lock)
        {
            s_vmlinux = null;
            s_modules = null;
            s_custom.Clear();
            s_vmlinuxMapping?.Dispose();
            s_vmlinuxMapping = null;
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

    internal static BtfSpec LoadRaw(string path, bool missingHint, BtfSpec? baseSpec = null) =>
        LoadRaw(path, missingHint, baseSpec, out _, allowMap: true, ownerTaken: false);

    /// <summary>
    /// Parses a BTF file, bypassing every cache; <paramref name="mapping"/> (when not null) owns the bytes the spec
    /// reads (a mapping of the file, or native memory it was read into) and must outlive every use of the spec.
    /// </summary>
    /// <param name="allowMap">False reads the file even where mapping would work (benchmarks of the pre-6.16 path).</param>
    internal static BtfSpec LoadRaw(string path, bool missingHint, BtfSpec? baseSpec, out IDisposable? mapping, bool allowMap = true) =>
        LoadRaw(path, missingHint, baseSpec, out mapping, allowMap, ownerTaken: true);

    /// <param name="ownerTaken">
    /// Whether the caller keeps <paramref name="mapping"/>: only then is a file that cannot be mapped read into native
    /// memory (freed with the owner); otherwise into a managed array the GC frees with the spec.
    /// </param>
    private static BtfSpec LoadRaw(string path, bool missingHint, BtfSpec? baseSpec, out IDisposable? mapping, bool allowMap, bool ownerTaken)
    {
        mapping = null;
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
            var mapped = allowMap ? TryMap(path) : null;
            if (mapped != null)
            {
                try
                {
                    var spec = BtfSpec.Parse(mapped.Memory, baseSpec);
                    mapping = mapped;
                    return spec;
                }
                catch
                {
                    ((IDisposable)mapped).Dispose();
                    throw;
                }
            }
            var native = ownerTaken ? ReadNative(path) : null;
            if (native == null)
                return BtfSpec.Parse(ReadAll(path), baseSpec);
            try
            {
                var spec = BtfSpec.Parse(native.Memory, baseSpec);
                mapping = native;
                return spec;
            }
            catch
            {
                ((IDisposable)native).Dispose();
                throw;
            }
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

    /// <summary>
    /// Reads a file whose size the file system reports (sysfs does, exactly) into native memory: the fallback when
    /// mapping is refused (kernels before 6.16). Null when the size is unknown or the file changed size meanwhile
    /// (then <see cref="ReadAll"/> reads it into a managed array).
    /// </summary>
    private static unsafe NativeBuffer? ReadNative(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long len = fs.Length;
        if (len <= 0 || len >= int.MaxValue)
            return null;
        var buf = new NativeBuffer((int)len);
        try
        {
            int total = 0;
            var span = new Span<byte>(buf.Pointer, (int)len);
            while (total < span.Length)
            {
                // sysfs binary attributes return at most a page per read(2).
                int n = fs.Read(span.Slice(total));
                if (n <= 0) break;
                total += n;
            }
            Span<byte> probe = stackalloc byte[1];
            if (total != span.Length || fs.Read(probe) != 0)
            {
                ((IDisposable)buf).Dispose();
                return null;
            }
            return buf;
        }
        catch
        {
            ((IDisposable)buf).Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads a whole file (the fallback when mapping is refused: kernels before 6.16). sysfs binary attributes return
    /// at most a page per read(2), so this loops; when the size is known (sysfs reports it exactly) the bytes land
    /// in one uninitialised array of that size, with no growth copies and no zeroing: on a 5.5 MB vmlinux BTF the
    /// old grow-by-doubling loop copied 16 MB and allocated 22 MB, six times the cost of libbpf's fread.
    /// </summary>
    internal static byte[] ReadAll(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long len = fs.Length;
        var buf = len > 0 && len < Array.MaxLength ? GC.AllocateUninitializedArray<byte>((int)len) : new byte[1 << 20];
        int total = 0;
        Span<byte> probe = stackalloc byte[1];
        while (true)
        {
            while (total < buf.Length)
            {
                int n = fs.Read(buf, total, buf.Length - total);
                if (n <= 0)
                    return total == buf.Length ? buf : buf.AsSpan(0, total).ToArray();
                total += n;
            }
            // Full: at the end when the size was right (one probe read tells), else grow and go on.
            if (fs.Read(probe) == 0)
                return buf;
            Array.Resize(ref buf, buf.Length * 2);
            buf[total++] = probe[0];
        }
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
        return new CoreTargets(v, $"kernel {KernelInfo.Release} ({VmlinuxLocation})", Modules(v));
    }
}
