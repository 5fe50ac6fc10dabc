using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Interop;

namespace Ebpf.Kernel;

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

    /// <summary>
    /// Parses a BTF file the way the loader reads the kernel's: mapped when possible, else read. Raw BTF, an ELF file
    /// with a .BTF section, or either gzip-compressed.
    /// </summary>
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
    /// <param name="path">The BTF file: raw BTF as in /sys/kernel/btf, or gzip-compressed raw BTF.</param>
    /// <param name="missingHint">Whether a missing file's error says how to get kernel BTF.</param>
    /// <param name="baseSpec">The base BTF of split BTF (vmlinux for a module's BTF); null for a base file.</param>
    /// <param name="mapping">Receives what owns the bytes the spec reads, or null when the spec owns them.</param>
    /// <param name="allowMap">False reads the file even where mapping would work (benchmarks of the pre-6.16 path).</param>
    internal static BtfSpec LoadRaw(string path, bool missingHint, BtfSpec? baseSpec, out IDisposable? mapping, bool allowMap = true) =>
        LoadRaw(path, missingHint, baseSpec, out mapping, allowMap, ownerTaken: true);

    /// <summary>Parses a BTF file, bypassing every cache.</summary>
    /// <param name="path">The BTF file.</param>
    /// <param name="missingHint">Whether a missing file's error says how to get kernel BTF.</param>
    /// <param name="baseSpec">The base BTF of split BTF; null for a base file.</param>
    /// <param name="mapping">Receives what owns the bytes the spec reads, when <paramref name="ownerTaken"/>; else null.</param>
    /// <param name="allowMap">False reads the file even where mapping would work.</param>
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
            // Mapped where the kernel allows it (sysfs from 6.16, any regular file), else read into native memory
            // (when the caller keeps the owner) or an array. Gzip is recognised by its magic, as everywhere.
            IDisposable? owner = null;
            ReadOnlyMemory<byte> bytes;
            if ((allowMap ? TryMap(path) : null) is { } mapped)
                (owner, bytes) = (mapped, mapped.Memory);
            else if ((ownerTaken ? ReadNative(path) : null) is { } native)
                (owner, bytes) = (native, native.Memory);
            else
                bytes = ReadAll(path);
            try
            {
                if (Gzip.IsGzip(bytes.Span))
                    return BtfSource.Parse(Gzip.Decompress(bytes), baseSpec);
                var spec = BtfSource.Parse(bytes, baseSpec);
                (mapping, owner) = (owner, null);
                return spec;
            }
            finally
            {
                owner?.Dispose();
            }
        }
        catch (BpfFormatException e)
        {
            throw new BpfEnvironmentException($"'{path}' is not valid BTF: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BpfEnvironmentException($"cannot read '{path}': permission denied", e);
        }
        catch (IOException e)
        {
            throw new BpfEnvironmentException($"cannot read '{path}': {e.Message}", e);
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
    internal static IReadOnlyList<CoreModuleBtf> Modules(BtfSpec vmlinux)
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
    internal static CoreTargets Targets(string? customPath)
    {
        if (customPath != null)
            return new CoreTargets(LoadFile(customPath), $"{Path.GetFileName(customPath)} ({customPath})");
        var v = Vmlinux;
        return new CoreTargets(v, $"kernel {KernelInfo.Release} ({VmlinuxLocation})", Modules(v));
    }

    // ------------------------------------------------------------------ kernels without BTF

    /// <summary>
    /// This process's architecture as kernel BTF is keyed by (<see cref="CpuArchitecture"/>: x64, arm64); null for
    /// others. A kernel runs programs of its own architecture, so the process's is the kernel's.
    /// </summary>
    internal static string? Architecture => RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => CpuArchitecture.X64,
        System.Runtime.InteropServices.Architecture.Arm64 => CpuArchitecture.Arm64,
        _ => null,
    };

    /// <summary>
    /// Why the kernel's own BTF cannot be used, or null when it can: "missing", "not readable (...)" or "empty"
    /// (a kernel built without CONFIG_DEBUG_INFO_BTF, a container that hides it, a zero-length stand-in).
    /// </summary>
    public static string? VmlinuxProblem()
    {
        string path = VmlinuxLocation;
        try
        {
            if (!File.Exists(path))
                return "missing";
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            Span<byte> first = stackalloc byte[1];
            return fs.Read(first) == 0 ? "empty" : null;
        }
        catch (UnauthorizedAccessException)
        {
            return "not readable (permission denied)";
        }
        catch (IOException e)
        {
            return $"not readable ({e.Message})";
        }
    }

    /// <summary>
    /// The BTF CO-RE relocates against, chosen as libbpf would and beyond: an explicit
    /// <see cref="BpfObjectOptions.TargetBtfPath"/> wins; then the kernel's own /sys/kernel/btf/vmlinux; when that is
    /// missing, unreadable or empty, the BTF named after this kernel's release (<c>uname -r</c>) in
    /// <see cref="BpfObjectOptions.KernelBtfDirectory"/>, then the one embedded in <paramref name="embedded"/> (the
    /// assembly the object came from: <c>&lt;BpfKernelBtf Embed="true"/&gt;</c>). Logs which one it took.
    /// </summary>
    /// <exception cref="BpfEnvironmentException">No BTF fits this kernel: the message lists the releases there are.</exception>
    internal static CoreTargets Targets(BpfObjectOptions options, Assembly? embedded, ILogger log)
    {
        if (options.TargetBtfPath != null)
        {
            var t = Targets(options.TargetBtfPath);
            log.LogInformation("kernel BTF: {Path} (BpfObjectOptions.TargetBtfPath)", options.TargetBtfPath);
            return t;
        }
        string? problem = VmlinuxProblem();
        if (problem == null)
        {
            var t = Targets(null);
            log.LogDebug("kernel BTF: {Path}", VmlinuxLocation);
            return t;
        }
        string release = KernelInfo.Release;
        string? arch = Architecture;
        var seen = new List<string>();
        if (options.KernelBtfDirectory != null)
        {
            string dir = options.KernelBtfDirectory;
            foreach (var path in DirectoryCandidates(dir, release, arch))
            {
                if (!File.Exists(path))
                    continue;
                var spec = LoadFile(path);
                log.LogInformation("kernel BTF: {Path} from BpfObjectOptions.KernelBtfDirectory for kernel {Release} ({Vmlinux} is {Problem})", path, release, VmlinuxLocation, problem);
                return new CoreTargets(spec, $"kernel {release} ({path})");
            }
            seen.Add($"directory {dir}: {ListDirectory(dir, arch)}");
        }
        if (embedded != null)
        {
            foreach (var resource in EmbeddedCandidates(release, arch))
            {
                var spec = LoadEmbedded(embedded, resource);
                if (spec == null)
                    continue;
                log.LogInformation("kernel BTF: embedded {Resource} of {Assembly} (minimized at build time) for kernel {Release} ({Vmlinux} is {Problem})",
                    resource, embedded.GetName().Name, release, VmlinuxLocation, problem);
                return new CoreTargets(spec, $"kernel {release} (embedded {resource}, minimized)");
            }
            seen.Add($"embedded in {embedded.GetName().Name}: {ListEmbedded(embedded, arch)}");
        }
        throw new BpfEnvironmentException($"this kernel ({release}{(arch == null ? string.Empty : ", " + arch)}) has no BTF: {VmlinuxLocation} is {problem} (the kernel was built without CONFIG_DEBUG_INFO_BTF=y, or it is hidden), and no BTF for {release} was found" +
            (seen.Count > 0 ? " (" + string.Join("; ", seen) + ")" : string.Empty) +
            ". Add this kernel's BTF: <BpfKernelBtf Include=\"" + release + ".btf.gz\" Embed=\"true\" /> in the project, a " + release +
            ".btf[.gz] in BpfObjectOptions.KernelBtfDirectory, or BpfObjectOptions.TargetBtfPath (kernel BTF comes from BTFHub or from the kernel image, see scripts/extract-kernel-btf.sh)");
    }

    /// <summary>
    /// Where a directory may hold this kernel's BTF, in order: <c>DIR/ARCH/RELEASE.btf[.gz]</c> (one directory for
    /// several architectures, laid out as the build embeds them), then <c>DIR/RELEASE.btf[.gz]</c>.
    /// </summary>
    internal static IEnumerable<string> DirectoryCandidates(string dir, string release, string? arch)
    {
        string name = KernelBtfNames.FileName(release);
        if (arch != null)
        {
            yield return Path.Combine(dir, arch, name);
            yield return Path.Combine(dir, arch, name + ".gz");
        }
        yield return Path.Combine(dir, name);
        yield return Path.Combine(dir, name + ".gz");
    }

    /// <summary>The resources that may hold this kernel's minimized BTF, in order: this architecture's, then the neutral one.</summary>
    internal static IEnumerable<string> EmbeddedCandidates(string release, string? arch)
    {
        if (arch != null)
            yield return KernelBtfNames.EmbeddedResourceName(release, arch);
        yield return KernelBtfNames.EmbeddedResourceName(release);
    }

    /// <summary>
    /// The kernel BTF that BTF ids (programs attached by BTF id, kfuncs, typed ksyms) are looked up in: the explicit
    /// <see cref="BpfObjectOptions.TargetBtfPath"/>, else the kernel's own. A minimized BTF cannot serve: the ids
    /// must be the running kernel's, and a kernel without BTF has none to give.
    /// </summary>
    internal static BtfSpec ForBtfIds(string? targetBtfPath)
    {
        if (targetBtfPath != null)
            return LoadFile(targetBtfPath);
        string? problem = VmlinuxProblem();
        if (problem != null)
            throw new BpfEnvironmentException($"this kernel ({KernelInfo.Release}) has no BTF of its own ({VmlinuxLocation} is {problem}): " +
                "BTF ids exist only in a kernel built with CONFIG_DEBUG_INFO_BTF=y, and a minimized or embedded BTF only serves CO-RE relocations; " +
                "BpfObjectOptions.TargetBtfPath names a full BTF file of this kernel to take them from");
        return Vmlinux;
    }

    private static readonly Dictionary<string, BtfSpec> s_embedded = new Dictionary<string, BtfSpec>(StringComparer.Ordinal);

    /// <summary>An embedded BTF, parsed once per process; null when the assembly has no such resource.</summary>
    internal static BtfSpec? LoadEmbedded(Assembly assembly, string resource)
    {
        string key = assembly.FullName + "|" + resource;
        lock (s_lock)
        {
            if (s_embedded.TryGetValue(key, out var cached))
                return cached;
            using var stream = assembly.GetManifestResourceStream(resource);
            if (stream == null)
                return null;
            try
            {
                var spec = BtfSource.Parse(Gzip.Decompress(stream));
                s_embedded.Add(key, spec);
                return spec;
            }
            catch (BpfFormatException e)
            {
                throw new BpfEnvironmentException($"embedded kernel BTF '{resource}' in {assembly.GetName().Name} is corrupt: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// The kernel releases an assembly carries minimized BTF for that this process can use (those of its
    /// architecture and those embedded without one), sorted.
    /// </summary>
    public static IReadOnlyList<string> EmbeddedReleases(Assembly assembly)
    {
        if (assembly is null) throw new ArgumentNullException(nameof(assembly));
        var (usable, _) = Embedded(assembly, Architecture);
        return usable;
    }

    /// <summary>The releases embedded for this architecture (or none), and "release (arch)" for the others.</summary>
    private static (List<string> Usable, List<string> Other) Embedded(Assembly assembly, string? arch)
    {
        var usable = new SortedSet<string>(StringComparer.Ordinal);
        var other = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!KernelBtfNames.TryParseEmbeddedResourceName(name, out var release, out var resourceArch))
                continue;
            if (resourceArch == null || resourceArch == arch)
                usable.Add(release);
            else
                other.Add($"{release} ({resourceArch})");
        }
        return (new List<string>(usable), new List<string>(other));
    }

    private static string ListEmbedded(Assembly assembly, string? arch)
    {
        var (usable, other) = Embedded(assembly, arch);
        string list = usable.Count == 0 ? "none" : string.Join(", ", usable);
        return other.Count == 0 ? list : $"{list}; for other architectures: {string.Join(", ", other)}";
    }

    private static string ListDirectory(string dir, string? arch)
    {
        if (!Directory.Exists(dir))
            return "does not exist";
        var list = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var d in arch == null ? new[] { dir } : new[] { Path.Combine(dir, arch), dir })
            {
                if (!Directory.Exists(d))
                    continue;
                foreach (var f in Directory.GetFiles(d))
                {
                    var release = KernelBtfNames.ReleaseFromFileName(f);
                    string name = Path.GetFileName(f);
                    if (release != null && (name.EndsWith(".btf", StringComparison.Ordinal) || name.EndsWith(".btf.gz", StringComparison.Ordinal)))
                        list.Add(release);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "cannot be listed (" + e.Message + ")";
        }
        return list.Count == 0 ? "no RELEASE.btf[.gz] files" : string.Join(", ", list);
    }
}
