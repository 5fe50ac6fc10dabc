using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using Ebpf.Kernel;
using Ebpf.Loader;
using Ebpf.Objects;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ebpf;

/// <summary>
/// An eBPF object file opened for loading: its maps, programs and global data, then the kernel objects made from
/// them. <c>Open</c> parses the file (nothing touches the kernel); between Open and <see cref="Load()"/> you can set
/// .rodata values, resize maps, toggle autoload and choose a pin root; <see cref="Load()"/> performs CO-RE,
/// creates maps and loads programs; <see cref="Attach"/> attaches every program whose section says where;
/// <see cref="Dispose"/> detaches and closes everything.
/// </summary>
public sealed class BpfObject : IDisposable
{
    private readonly List<BpfMap> _maps = new List<BpfMap>();
    private readonly Dictionary<string, BpfMap> _mapsByName = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
    private readonly List<BpfProgram> _programs = new List<BpfProgram>();
    private readonly Dictionary<string, BpfProgram> _programsByName = new Dictionary<string, BpfProgram>(StringComparer.Ordinal);
    private readonly List<BpfDataSection> _sections = new List<BpfDataSection>();
    private readonly List<BpfStructOps> _structOps = new List<BpfStructOps>();
    private readonly List<BpfLink> _links = new List<BpfLink>();
    private readonly object _sync = new object();
    private bool _loaded;
    private bool _disposed;

    private BpfObject(BpfObjectSpec spec, BpfObjectOptions options, Syscalls sys)
    {
        Spec = spec;
        Options = options;
        Syscalls = sys;
        Logger = options.Logger ?? NullLogger.Instance;
        PinRoot = options.PinRoot ?? BpfFs.DefaultRoot;
        foreach (var ms in spec.Maps)
        {
            var map = new BpfMap(this, ms, ms.Name, ms.Type, sys);
            _maps.Add(map);
            _mapsByName[ms.Name] = map;
            if (ms.IsInternal)
                _sections.Add(new BpfDataSection(this, map, ms));
            if (ms.StructOps != null)
            {
                var ops = new BpfStructOps(this, map, ms.StructOps);
                map.StructOps = ops;
                _structOps.Add(ops);
            }
        }
        foreach (var ps in spec.Programs)
        {
            var p = new BpfProgram(this, ps, ps.Name, ps.SectionName, ps.ProgramType, sys);
            _programs.Add(p);
            _programsByName[ps.Name] = p;
        }
        foreach (var ops in _structOps)
            ops.BindInitialPrograms();
    }

    internal Syscalls Syscalls { get; }
    internal BpfObjectOptions Options { get; }
    internal ILogger Logger { get; }

    /// <summary>
    /// The assembly the object was embedded in: its minimized kernel BTFs (<c>ebpf/btf/RELEASE.btf.gz</c>) stand in
    /// for /sys/kernel/btf/vmlinux on kernels without BTF.
    /// </summary>
    internal Assembly? EmbeddedBtfAssembly { get; private set; }
    internal BpfHandle? BtfHandle { get; set; }

    /// <summary>The parsed object file.</summary>
    internal BpfObjectSpec Spec { get; }
    /// <summary>
    /// The object's name: the file name up to its first '.' ("exec_snoop" for exec_snoop.bpf.o) unless
    /// <see cref="BpfObjectOptions.ObjectName"/> says otherwise. Errors and pins name it; the kernel sees its first 15
    /// bytes in the names of the data-section maps.
    /// </summary>
    public string Name => Spec.Name;
    /// <summary>
    /// Whether a load completed: <see cref="Load()"/> succeeded, or <see cref="Load(BpfLoadMode)"/> with
    /// <see cref="BpfLoadMode.ContinueOnFailure"/> went to its end (some maps or programs may have failed). Stays true
    /// after <see cref="Dispose"/>; see <see cref="IsDisposed"/>.
    /// </summary>
    public bool IsLoaded => _loaded;
    /// <summary>Whether <see cref="Dispose"/> was called: the links are removed and the descriptors closed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Directory for maps pinned by name (LIBBPF_PIN_BY_NAME); can be changed before load.</summary>
    public string PinRoot { get; set; }

    /// <summary>All maps, user maps first then data sections, in the object's order.</summary>
    public IReadOnlyList<BpfMap> Maps => _maps;
    /// <summary>All programs, in the object's order (subprograms are part of the programs that call them, not listed).</summary>
    public IReadOnlyList<BpfProgram> Programs => _programs;
    /// <summary>The global-data sections (.rodata, .data, .bss, .kconfig, custom .data.x/.rodata.x), each backed by one array map.</summary>
    public IReadOnlyList<BpfDataSection> DataSections => _sections;
    /// <summary>The struct_ops maps (variables of .struct_ops and .struct_ops.link), in the object's order.</summary>
    public IReadOnlyList<BpfStructOps> StructOps => _structOps;

    /// <summary>
    /// The live links of the object's programs: those <see cref="Attach"/> made and those made by a program's own
    /// attach methods (typed wrappers included), kept until they are disposed or the object's <see cref="Detach"/>
    /// or Dispose removes them.
    /// </summary>
    public IReadOnlyList<BpfLink> Links
    {
        get { lock (_sync) return _links.ToArray(); }
    }

    // ------------------------------------------------------------------ open

    /// <summary>Opens an object file. Nothing is sent to the kernel until <see cref="Load()"/>.</summary>
    public static BpfObject Open(string path, BpfObjectOptions? options = null)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new BpfEnvironmentException($"object file '{path}' does not exist", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new BpfEnvironmentException($"object file '{path}' does not exist", e);
        }
        return Open(bytes, options?.ObjectName ?? BpfObjectSpec.ObjectNameFromPath(path), options);
    }

    /// <summary>Opens an object from a stream (read to the end).</summary>
    public static BpfObject Open(Stream stream, string objectName, BpfObjectOptions? options = null)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Open(ms.ToArray(), objectName, options);
    }

    /// <summary>Opens an object from its bytes.</summary>
    public static BpfObject Open(ReadOnlyMemory<byte> objectBytes, string objectName, BpfObjectOptions? options = null)
    {
        options ??= new BpfObjectOptions();
        var spec = BpfObjectSpec.Parse(objectBytes, options.ObjectName ?? objectName);
        return new BpfObject(spec, options, Syscalls.Current);
    }

    /// <summary>Opens an object embedded as a manifest resource (how generated skeletons carry their object).</summary>
    public static BpfObject OpenResource(Assembly assembly, string resourceName, string objectName, BpfObjectOptions? options = null)
    {
        if (assembly is null) throw new ArgumentNullException(nameof(assembly));
        using var s = assembly.GetManifestResourceStream(resourceName)
            ?? throw new BpfEnvironmentException($"assembly '{assembly.GetName().Name}' has no embedded resource '{resourceName}' (is the BpfObject item still in the project?)");
        var obj = Open(s, objectName, options);
        obj.EmbeddedBtfAssembly = assembly;
        return obj;
    }

    /// <summary>Opens and loads an object file.</summary>
    public static BpfObject Load(string path, BpfObjectOptions? options = null)
    {
        var obj = Open(path, options);
        try
        {
            obj.Load();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ lookups

    /// <summary>The map named <paramref name="name"/>: the C variable's name, or the data section's name (".rodata", ...).</summary>
    /// <exception cref="KeyNotFoundException">The object has no such map; the message lists the maps it has.</exception>
    public BpfMap GetMap(string name) =>
        _mapsByName.TryGetValue(name, out var m) ? m : throw new KeyNotFoundException($"object '{Name}' has no map named '{name}' (maps: {string.Join(", ", _mapsByName.Keys)})");

    /// <summary>The map named <paramref name="name"/>; false (and null) when the object has none.</summary>
    public bool TryGetMap(string name, [NotNullWhen(true)] out BpfMap? map) => _mapsByName.TryGetValue(name, out map);

    /// <summary>The program named <paramref name="name"/> (the C function's name, not the section's).</summary>
    /// <exception cref="KeyNotFoundException">The object has no such program; the message lists the programs it has.</exception>
    public BpfProgram GetProgram(string name) =>
        _programsByName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"object '{Name}' has no program named '{name}' (programs: {string.Join(", ", _programsByName.Keys)})");

    /// <summary>The program named <paramref name="name"/>; false (and null) when the object has none.</summary>
    public bool TryGetProgram(string name, [NotNullWhen(true)] out BpfProgram? program) => _programsByName.TryGetValue(name, out program);

    /// <summary>The data section ".rodata", ".data", ".bss", ".kconfig" or a custom ".data.x"/".rodata.x".</summary>
    public BpfDataSection GetDataSection(string sectionName)
    {
        foreach (var s in _sections)
            if (s.SectionName == sectionName) return s;
        var names = new List<string>();
        foreach (var s in _sections) names.Add(s.SectionName);
        throw new KeyNotFoundException($"object '{Name}' has no data section '{sectionName}' (sections: {(names.Count == 0 ? "none" : string.Join(", ", names))})");
    }

    /// <summary>The struct_ops map named <paramref name="name"/> (the C variable's name).</summary>
    public BpfStructOps GetStructOps(string name)
    {
        foreach (var s in _structOps)
            if (s.Name == name) return s;
        var names = new List<string>();
        foreach (var s in _structOps) names.Add(s.Name);
        throw new KeyNotFoundException($"object '{Name}' has no struct_ops map '{name}' (struct_ops maps: {(names.Count == 0 ? "none" : string.Join(", ", names))})");
    }

    /// <summary>The data section <paramref name="sectionName"/>; false (and null) when the object has none.</summary>
    public bool TryGetDataSection(string sectionName, [NotNullWhen(true)] out BpfDataSection? section)
    {
        foreach (var s in _sections)
            if (s.SectionName == sectionName) { section = s; return true; }
        section = null;
        return false;
    }

    // ------------------------------------------------------------------ load, attach

    /// <summary>
    /// Loads the object into the kernel: CO-RE relocation, BTF, maps (pinned ones reused), global data, externs,
    /// programs. On failure everything created so far is closed and the exception says what failed (a
    /// <see cref="BpfException"/>: its ObjectName, MapName, ProgramName, Errno, ... say what it is about);
    /// <see cref="LoadReport"/> says, map by map and program by program, how far the load went.
    /// </summary>
    public void Load() => Load(BpfLoadMode.StopAtFirstFailure);

    /// <summary>
    /// Loads the object as <see cref="Load()"/> does, or, with <see cref="BpfLoadMode.ContinueOnFailure"/>, everything
    /// in it that can load: failed maps and programs are reported, not thrown, and the rest is loaded and usable
    /// (<see cref="IsLoaded"/> is true unless the whole object failed: <see cref="BpfLoadReport.Error"/>). Returns
    /// the report (also in <see cref="LoadReport"/>).
    /// </summary>
    public BpfLoadReport Load(BpfLoadMode mode)
    {
        lock (_sync)
        {
            ThrowIfDisposed();
            if (_loaded)
                throw new InvalidOperationException($"object '{Name}' is already loaded");
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var loader = new ObjectLoader(this, mode);
            LoadReport = loader.Report;
            try
            {
                loader.Load();
            }
            catch (Exception e)
            {
                BpfMetrics.ObjectLoaded(this, start, e);
                throw;
            }
            BpfMetrics.ObjectLoaded(this, start, loader.Report.Error);
            if (loader.Report.Error != null)
                return loader.Report; // continuing on failure: the whole object failed, nothing is loaded
            _loaded = true;
            LoadedObjects.Add(this);
            return loader.Report;
        }
    }

    /// <summary>
    /// What the last load did, map by map and program by program (created, reused, pinned, skipped, loaded, failed
    /// with the error and the verifier's log); also after a load that failed. Null before the first load.
    /// </summary>
    public BpfLoadReport? LoadReport { get; private set; }

    /// <summary>
    /// Attaches every loaded program whose section name says where (tracepoints, raw tracepoints, fentry, kprobes
    /// with a target, uprobes with a binary, iterators, ...). Programs the section cannot place (SEC("xdp"),
    /// SEC("kprobe") without a function) are skipped: attach them with their typed wrapper. Struct_ops maps are
    /// registered (<see cref="BpfStructOps.Attach"/>) unless their AutoAttach is off. If one attach fails,
    /// the links made by this call are removed and the error is raised.
    /// </summary>
    public void Attach()
    {
        lock (_sync)
        {
            ThrowIfDisposed();
            if (!_loaded)
                throw new InvalidOperationException($"object '{Name}' must be loaded before Attach()");
            var made = new List<BpfLink>();
            try
            {
                foreach (var p in _programs)
                {
                    if (!p.IsLoaded || !p.IsAutoAttachable)
                        continue;
                    bool already = false;
                    foreach (var l in _links)
                        if (ReferenceEquals(l.Program, p) && !l.IsDisposed) { already = true; break; }
                    if (already) continue;
                    BpfLink link;
                    try
                    {
                        link = p.Attach();
                    }
                    catch (BpfException e)
                    {
                        e.About(objectName: Name, programName: p.Name);
                        throw;
                    }
                    made.Add(link);
                    Logger.LogDebug("prog '{Program}': attached to {Target}", p.Name, link.Target);
                }
                foreach (var ops in _structOps)
                {
                    if (!ops.AutoAttach || !ops.Map.IsLoaded || ops.IsRegistered)
                        continue;
                    var link = ops.Attach();
                    made.Add(link);
                    Logger.LogDebug("struct_ops '{Map}': registered ({Target})", ops.Name, link.Target);
                }
            }
            catch
            {
                for (int i = made.Count - 1; i >= 0; i--)
                    made[i].Dispose();
                throw;
            }
            foreach (var l in made)
                Own(l); // (links of the object's programs registered themselves already; struct_ops links may not)
        }
    }

    /// <summary>Takes <paramref name="link"/> (one of this object's programs' links, made anywhere) into <see cref="Links"/>.</summary>
    internal void Own(BpfLink link)
    {
        lock (_sync)
        {
            if (!_disposed && !_links.Contains(link))
                _links.Add(link);
        }
    }

    /// <summary>A link was disposed: it leaves <see cref="Links"/>.</summary>
    internal void Disown(BpfLink link)
    {
        lock (_sync)
            _links.Remove(link);
    }

    /// <summary>
    /// Keeps a link made outside <see cref="Attach"/> (of a program opened elsewhere, say) so that Detach/Dispose
    /// remove it too. Links of this object's programs are kept without asking.
    /// </summary>
    public void AddLink(BpfLink link)
    {
        if (link is null) throw new ArgumentNullException(nameof(link));
        lock (_sync)
        {
            ThrowIfDisposed();
            if (!_links.Contains(link))
                _links.Add(link);
        }
    }

    /// <summary>Removes every link in <see cref="Links"/>, newest first (programs stay loaded).</summary>
    public void Detach()
    {
        List<Exception>? errors = null;
        lock (_sync)
        {
            var links = _links.ToArray();
            _links.Clear();
            for (int i = links.Length - 1; i >= 0; i--)
            {
                try
                {
                    links[i].Dispose();
                }
                catch (Exception e)
                {
                    (errors ??= new List<Exception>()).Add(e);
                }
            }
        }
        if (errors is { Count: 1 })
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(errors[0]).Throw();
        if (errors != null)
            throw new AggregateException("detaching some links failed", errors);
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(BpfObject), $"object '{Name}' is disposed");
    }

    /// <summary>Detaches every link, unmaps data sections and closes every program, map and BTF descriptor.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            if (_loaded)
                LoadedObjects.Remove(this);
            var links = _links.ToArray();
            _links.Clear();
            for (int i = links.Length - 1; i >= 0; i--)
            {
                try { links[i].Dispose(); } catch (BpfException) { }
            }
            // Registrations made with BpfStructOps.Attach() directly: a .struct_ops value stays registered (held
            // by the kernel) after its map's descriptor is closed, so it is unregistered here.
            foreach (var ops in _structOps)
            {
                try { ops.Link?.Dispose(); } catch (BpfException) { }
            }
            ReleaseKernelObjects(disposing: true);
        }
    }

    /// <summary>
    /// Closes everything the loader created: on Dispose (maps and programs are disposed), or when a load fails half
    /// way (they go back to their state before Load).
    /// </summary>
    internal void ReleaseKernelObjects(bool disposing)
    {
        foreach (var s in _sections)
            s.ReleaseMapping();
        foreach (var p in _programs)
        {
            if (disposing) p.Dispose();
            else p.ReleaseAfterFailedLoad();
        }
        foreach (var m in _maps)
        {
            if (disposing) m.Dispose();
            else m.ReleaseAfterFailedLoad();
        }
        BtfHandle?.Dispose();
        BtfHandle = null;
    }

    /// <summary>The object's name, its numbers of programs and maps, and whether it is loaded.</summary>
    public override string ToString() => $"object '{Name}' ({_programs.Count} programs, {_maps.Count} maps{(_loaded ? ", loaded" : string.Empty)})";
}
