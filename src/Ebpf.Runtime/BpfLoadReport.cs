using System;
using System.Collections.Generic;

namespace Ebpf;

/// <summary>How <see cref="BpfObject.Load(BpfLoadMode)"/> proceeds when a map or a program fails.</summary>
public enum BpfLoadMode
{
    /// <summary>
    /// As libbpf: the first failure stops the load, everything created so far is closed, and the failure is thrown.
    /// <see cref="BpfObject.LoadReport"/> still says what happened up to it.
    /// </summary>
    StopAtFirstFailure,

    /// <summary>
    /// Load everything that can load. A map that fails is closed and reported, and so is every program that uses it;
    /// a program that fails (the verifier, a CO-RE relocation or an extern it needs, its attach target, ...) is
    /// reported; the others are loaded and usable (<see cref="BpfObject.Attach"/> attaches the loaded ones). Nothing
    /// is thrown for a map or a program: only a failure of the whole object (this process may not use bpf(2)) ends
    /// the load early, with <see cref="BpfLoadReport.Error"/> set and nothing left loaded.
    /// </summary>
    ContinueOnFailure,
}

/// <summary>What became of a map in a load.</summary>
public enum BpfMapLoadStatus
{
    /// <summary>The load ended before it reached this map.</summary>
    NotAttempted,
    /// <summary>Created.</summary>
    Created,
    /// <summary>Created and pinned by name (<see cref="BpfMapLoadOutcome.PinPath"/>).</summary>
    Pinned,
    /// <summary>Not created: a compatible map pinned at its pin path, or a handle given with <see cref="BpfMap.ReuseHandle"/>, was used.</summary>
    Reused,
    /// <summary>Not created: <see cref="BpfMap.AutoCreate"/> is off.</summary>
    Skipped,
    /// <summary>Failed (<see cref="BpfMapLoadOutcome.Error"/>); whatever was made of it is closed.</summary>
    Failed,
}

/// <summary>What became of a program in a load.</summary>
public enum BpfProgramLoadStatus
{
    /// <summary>The load ended before it reached this program.</summary>
    NotAttempted,
    /// <summary>Loaded (verified).</summary>
    Loaded,
    /// <summary>Not loaded: its <see cref="BpfProgram.Autoload"/> is off (SEC("?...")).</summary>
    Skipped,
    /// <summary>Failed (<see cref="BpfProgramLoadOutcome.Error"/>).</summary>
    Failed,
}

/// <summary>One map's outcome in a load.</summary>
public sealed class BpfMapLoadOutcome
{
    internal BpfMapLoadOutcome(BpfMap map) => Map = map;

    /// <summary>The map this outcome is about (its settings, and its descriptor when it was created or reused).</summary>
    public BpfMap Map { get; }
    /// <summary>The map's name in the object (".rodata", "events", ...), the key of <see cref="BpfLoadReport.GetMap"/>.</summary>
    public string Name => Map.Name;
    /// <summary>What became of the map: created, pinned, reused, skipped, failed, or not reached.</summary>
    public BpfMapLoadStatus Status { get; internal set; }
    /// <summary>The kernel's id of the map that was created or reused; 0 otherwise.</summary>
    public uint Id { get; internal set; }
    /// <summary>Where the map is pinned (created and pinned, or reused from there).</summary>
    public string? PinPath { get; internal set; }
    /// <summary>Why the map failed; null unless <see cref="Status"/> is <see cref="BpfMapLoadStatus.Failed"/>.</summary>
    public BpfException? Error { get; internal set; }

    internal void Fail(BpfException e)
    {
        Status = BpfMapLoadStatus.Failed;
        Error = e;
    }

    /// <summary>The map's name, status and, on failure, the error's message, as in "map 'events': Created".</summary>
    public override string ToString() => $"map '{Name}': {Status}{(Error != null ? ": " + Error.Message : string.Empty)}";
}

/// <summary>One program's outcome in a load.</summary>
public sealed class BpfProgramLoadOutcome
{
    internal BpfProgramLoadOutcome(BpfProgram program) => Program = program;

    /// <summary>The program this outcome is about.</summary>
    public BpfProgram Program { get; }
    /// <summary>The program's name (its C function's), the key of <see cref="BpfLoadReport.GetProgram"/>.</summary>
    public string Name => Program.Name;
    /// <summary>What became of the program: loaded, skipped, failed, or not reached.</summary>
    public BpfProgramLoadStatus Status { get; internal set; }
    /// <summary>The kernel's id of the loaded program; 0 otherwise.</summary>
    public uint Id { get; internal set; }
    /// <summary>Instructions loaded, subprograms included; 0 unless loaded.</summary>
    public int InstructionCount { get; internal set; }
    /// <summary>
    /// Why the program failed: <see cref="BpfVerifierException"/> when the verifier refused it,
    /// <see cref="BpfCoreRelocationException"/> for a CO-RE relocation (of the program or a subprogram it calls), the
    /// map or extern it needs, its attach target, ...; null unless <see cref="Status"/> is <see cref="BpfProgramLoadStatus.Failed"/>.
    /// </summary>
    public BpfException? Error { get; internal set; }
    /// <summary>The verifier's whole log: of the refusal, or of the load when a log level was asked for; else null.</summary>
    public string? VerifierLog { get; internal set; }

    internal void Fail(BpfException e)
    {
        Status = BpfProgramLoadStatus.Failed;
        Error = e;
        for (Exception? x = e; x != null; x = x.InnerException)
        {
            if (x is BpfVerifierException v)
            {
                VerifierLog = v.VerifierLog;
                break;
            }
        }
    }

    /// <summary>The program's name, status and, on failure, the error's message, as in "prog 'handle_exec': Loaded".</summary>
    public override string ToString() => $"prog '{Name}': {Status}{(Error != null ? ": " + Error.Message : string.Empty)}";
}

/// <summary>
/// What a load did, map by map and program by program (<see cref="BpfObject.LoadReport"/>), also after a load that
/// failed. Kernel ids stay as they were when made, even once the objects are closed again.
/// </summary>
public sealed class BpfLoadReport
{
    private readonly Dictionary<string, BpfMapLoadOutcome> _mapsByName = new Dictionary<string, BpfMapLoadOutcome>(StringComparer.Ordinal);
    private readonly Dictionary<string, BpfProgramLoadOutcome> _programsByName = new Dictionary<string, BpfProgramLoadOutcome>(StringComparer.Ordinal);

    internal BpfLoadReport(BpfObject obj, BpfLoadMode mode)
    {
        ObjectName = obj.Name;
        Mode = mode;
        var maps = new List<BpfMapLoadOutcome>();
        foreach (var m in obj.Maps)
        {
            var o = new BpfMapLoadOutcome(m);
            maps.Add(o);
            _mapsByName[m.Name] = o;
        }
        var programs = new List<BpfProgramLoadOutcome>();
        foreach (var p in obj.Programs)
        {
            var o = new BpfProgramLoadOutcome(p);
            programs.Add(o);
            _programsByName[p.Name] = o;
        }
        Maps = maps;
        Programs = programs;
    }

    /// <summary>The name of the object that was loaded (its file name up to the first '.', or the name given at open).</summary>
    public string ObjectName { get; }
    /// <summary>Whether the load stopped at the first failure or went on past failed maps and programs.</summary>
    public BpfLoadMode Mode { get; }

    /// <summary>Every map of the object, in the object's order.</summary>
    public IReadOnlyList<BpfMapLoadOutcome> Maps { get; }

    /// <summary>Every program of the object, in the object's order.</summary>
    public IReadOnlyList<BpfProgramLoadOutcome> Programs { get; }

    /// <summary>
    /// The failure that ended the load early: in <see cref="BpfLoadMode.StopAtFirstFailure"/> the first failure (also
    /// on its map or program when it is theirs); in <see cref="BpfLoadMode.ContinueOnFailure"/> a failure of the whole
    /// object, after which nothing is loaded. Null when the load went to its end.
    /// </summary>
    public BpfException? Error { get; internal set; }

    /// <summary>True when the load went to its end and no map or program failed.</summary>
    public bool Succeeded
    {
        get
        {
            if (Error != null) return false;
            foreach (var m in Maps)
                if (m.Status == BpfMapLoadStatus.Failed) return false;
            foreach (var p in Programs)
                if (p.Status == BpfProgramLoadStatus.Failed) return false;
            return true;
        }
    }

    /// <summary>The outcome of map <paramref name="name"/>.</summary>
    public BpfMapLoadOutcome GetMap(string name) =>
        _mapsByName.TryGetValue(name, out var o) ? o : throw new KeyNotFoundException($"object '{ObjectName}' has no map named '{name}'");

    /// <summary>The outcome of program <paramref name="name"/>.</summary>
    public BpfProgramLoadOutcome GetProgram(string name) =>
        _programsByName.TryGetValue(name, out var o) ? o : throw new KeyNotFoundException($"object '{ObjectName}' has no program named '{name}'");

    internal BpfMapLoadOutcome this[BpfMap map] => _mapsByName[map.Name];
    internal BpfProgramLoadOutcome this[BpfProgram program] => _programsByName[program.Name];

    /// <summary>A one-line summary: programs loaded and failed out of the total, and the error that ended the load, if any.</summary>
    public override string ToString()
    {
        int loaded = 0, failed = 0;
        foreach (var p in Programs)
        {
            if (p.Status == BpfProgramLoadStatus.Loaded) loaded++;
            else if (p.Status == BpfProgramLoadStatus.Failed) failed++;
        }
        return $"object '{ObjectName}': {loaded} of {Programs.Count} programs loaded, {failed} failed{(Error != null ? "; " + Error.Message : string.Empty)}";
    }
}
