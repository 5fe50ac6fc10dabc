using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Object;

/// <summary>
/// <c>object load OBJ... [--target-btf FILE] [--json] [--log] [--all]</c>: loads each object into the kernel (maps and
/// programs, nothing attached), reports every program's fate with its own reason, and closes everything again.
/// </summary>
/// <remarks>
/// The object is loaded as a whole, as an application would load it. When a program fails, the loader stops there
/// and closes what it created; the failing program is recorded with its reason, its autoload is turned off, and a
/// fresh copy of the object is loaded again, until the remaining programs load or the failure is not a program's
/// (a map, an extern, the kernel BTF). That is one load when everything is fine and one more per failing program.
/// Maps pinned by name are pinned in a private temporary directory on the bpf filesystem, removed afterwards.
/// </remarks>
internal static class LoadCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("OBJ")
        {
            Description = "BPF object files; .gz is decompressed.",
            Arity = ArgumentArity.OneOrMore,
        };
        var targetBtf = new Option<string?>("--target-btf")
        {
            HelpName = "FILE",
            Description = "Kernel BTF for CO-RE and BTF-attached programs (raw or .gz), for kernels without /sys/kernel/btf/vmlinux.",
        };
        var json = new Option<bool>("--json") { Description = "One JSON object per object and line: maps, programs with status, id, error." };
        var log = new Option<bool>("--log", "--verbose", "-v") { Description = "Print the verifier's whole log under each program it rejected." };
        var all = new Option<bool>("--all") { Description = "Also load programs whose autoload is off (SEC(\"?...\"))." };
        var cmd = new Command("load", "Load each object into the kernel (maps and programs, nothing attached), report per program " +
            "whether it loaded or why the verifier refused it, and unload everything again. Needs root (CAP_BPF). Exit 0 when everything loaded.")
        {
            files, targetBtf, json, log, all,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            var paths = parse.GetValue(files) ?? Array.Empty<string>();
            var stderr = parse.InvocationConfiguration.Error;
            var settings = new Settings(parse.GetValue(targetBtf), parse.GetValue(json), parse.GetValue(log), parse.GetValue(all));
            if (settings.TargetBtf != null && !File.Exists(settings.TargetBtf))
                throw new CliException($"{settings.TargetBtf}: no such file");
            if (paths.Length == 1)
                return LoadOne(paths[0], settings, stdout);
            int rc = 0;
            for (int i = 0; i < paths.Length; i++)
            {
                string path = paths[i];
                if (i > 0 && !settings.Json)
                    stdout.Write('\n');
                try
                {
                    rc = Math.Max(rc, LoadOne(path, settings, stdout));
                }
                catch (CliException e)
                {
                    stdout.Flush();
                    stderr.WriteLine($"dotnet-ebpf: {e.Message}");
                    rc = CliApp.ExitError;
                }
            }
            return rc;
        }));
        return cmd;
    }

    private const int CapSysAdmin = 21;
    private const int CapBpf = 39;

    /// <summary>
    /// Refuses to start without the privileges bpf(2) needs (the kernel's refusals would otherwise look like missing
    /// features): root, CAP_SYS_ADMIN or CAP_BPF, unless unprivileged BPF is enabled.
    /// </summary>
    private static void RequirePrivileges()
    {
        if (Environment.IsPrivilegedProcess)
            return;
        try
        {
            if (File.ReadAllText("/proc/sys/kernel/unprivileged_bpf_disabled").Trim() == "0")
                return;
            foreach (var line in File.ReadAllLines("/proc/self/status"))
            {
                if (!line.StartsWith("CapEff:", StringComparison.Ordinal))
                    continue;
                ulong caps = ulong.Parse(line.Substring("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if ((caps & (1UL << CapSysAdmin)) != 0 || (caps & (1UL << CapBpf)) != 0)
                    return;
                break;
            }
        }
        catch (IOException)
        {
            return; // cannot tell: let the kernel decide
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }
        catch (FormatException)
        {
            return;
        }
        throw new CliException("loading BPF objects needs root, or CAP_BPF with CAP_PERFMON (tracing) / CAP_NET_ADMIN (networking): run it with sudo");
    }

    private sealed record Settings(string? TargetBtf, bool Json, bool Log, bool All);

    private enum ProgramStatus
    {
        /// <summary>Autoload off (SEC("?...")) and --all not given.</summary>
        Skipped,
        Loaded,
        Failed,
        /// <summary>Not tried: the object failed before programs (maps, externs, BTF) or for a reason no program caused.</summary>
        NotLoaded,
    }

    private sealed class ProgramOutcome
    {
        public ProgramOutcome(ProgramSpec spec) => Spec = spec;
        public ProgramSpec Spec { get; }
        public ProgramStatus Status { get; set; } = ProgramStatus.NotLoaded;
        public int Instructions { get; set; }
        public uint Id { get; set; }
        public string? Error { get; set; }
        public string? ErrnoName { get; set; }
        public string? VerifierLog { get; set; }
    }

    private sealed class MapOutcome
    {
        public MapOutcome(MapSpec spec) => Spec = spec;
        public MapSpec Spec { get; }
        public uint Id { get; set; }
        public bool Created => Id != 0;
    }

    private sealed class ObjectOutcome
    {
        public ObjectOutcome(string path, BpfObjectSpec spec)
        {
            Path = path;
            Spec = spec;
            foreach (var p in spec.Programs)
                Programs.Add(new ProgramOutcome(p));
            foreach (var m in spec.Maps)
                Maps.Add(new MapOutcome(m));
        }

        public string Path { get; }
        public BpfObjectSpec Spec { get; }
        public List<ProgramOutcome> Programs { get; } = new List<ProgramOutcome>();
        public List<MapOutcome> Maps { get; } = new List<MapOutcome>();
        /// <summary>A failure that is not one program's: nothing (more) could be loaded.</summary>
        public string? Error { get; set; }
        public int Attempts { get; set; }

        public bool Success
        {
            get
            {
                if (Error != null) return false;
                foreach (var p in Programs)
                    if (p.Status is ProgramStatus.Failed or ProgramStatus.NotLoaded) return false;
                return true;
            }
        }
    }

    private static int LoadOne(string path, Settings settings, TextWriter stdout)
    {
        var bytes = InputFiles.ReadBytes(path);
        BpfObjectSpec spec;
        try
        {
            spec = BpfObjectSpec.Parse(bytes, BpfObjectSpec.ObjectNameFromPath(path));
        }
        catch (BpfFormatException e)
        {
            throw new CliException($"{path}: {e.Message}");
        }
        ObjectFiles.RequireHostByteOrder(path, spec);
        RequirePrivileges();

        var outcome = new ObjectOutcome(path, spec);
        string? pinRoot = NeedsPinRoot(spec) ? CreatePinRoot() : null;
        try
        {
            Load(outcome, bytes, settings, pinRoot);
        }
        finally
        {
            if (pinRoot != null)
                RemovePinRoot(pinRoot);
        }
        if (settings.Json)
            WriteJson(stdout, outcome, settings);
        else
            WriteText(stdout, outcome, settings);
        return outcome.Success ? 0 : CliApp.ExitError;
    }

    // ------------------------------------------------------------------ loading

    private static void Load(ObjectOutcome outcome, byte[] bytes, Settings settings, string? pinRoot)
    {
        var spec = outcome.Spec;
        var enabled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in outcome.Programs)
        {
            if (p.Spec.Autoload || settings.All)
                enabled.Add(p.Spec.Name);
            else
                p.Status = ProgramStatus.Skipped;
        }

        while (true)
        {
            if (pinRoot != null)
                ClearPinRoot(pinRoot);
            outcome.Attempts++;
            var options = new BpfObjectOptions { TargetBtfPath = settings.TargetBtf, PinRoot = pinRoot };
            BpfObject obj;
            try
            {
                obj = BpfObject.Open(bytes, spec.Name, options);
            }
            catch (BpfFormatException e)
            {
                throw new CliException($"{outcome.Path}: {e.Message}");
            }
            using (obj)
            {
                foreach (var p in obj.Programs)
                    p.Autoload = enabled.Contains(p.Name);
                Exception? failure = null;
                try
                {
                    obj.Load();
                }
                catch (BpfException e)
                {
                    failure = e;
                }
                catch (IOException e)
                {
                    failure = e;
                }
                catch (UnauthorizedAccessException e)
                {
                    failure = e;
                }
                RecordMaps(outcome, obj);
                if (failure == null)
                {
                    foreach (var p in obj.Programs)
                    {
                        if (!enabled.Contains(p.Name)) continue;
                        var o = Find(outcome, p.Name);
                        if (!p.IsLoaded)
                        {
                            // The loader's own choice: a struct_ops program no created struct_ops map points to.
                            o.Status = ProgramStatus.Skipped;
                            continue;
                        }
                        o.Status = ProgramStatus.Loaded;
                        o.Instructions = p.InstructionCount;
                        o.Id = p.Id;
                    }
                    return;
                }

                var culprits = Culprits(obj, enabled, failure);
                if (culprits.Count == 0)
                {
                    outcome.Error = failure.Message;
                    return;
                }
                foreach (var name in culprits)
                {
                    var o = Find(outcome, name);
                    o.Status = ProgramStatus.Failed;
                    Describe(o, failure);
                    enabled.Remove(name);
                }
                if (enabled.Count == 0)
                    return;
            }
        }
    }

    private static ProgramOutcome Find(ObjectOutcome outcome, string name)
    {
        foreach (var p in outcome.Programs)
            if (p.Spec.Name == name) return p;
        throw new InvalidOperationException($"no program '{name}'");
    }

    private static void RecordMaps(ObjectOutcome outcome, BpfObject obj)
    {
        for (int i = 0; i < obj.Maps.Count && i < outcome.Maps.Count; i++)
        {
            if (obj.Maps[i].Id != 0)
                outcome.Maps[i].Id = obj.Maps[i].Id;
        }
    }

    /// <summary>
    /// The programs a load failure belongs to: the one the verifier refused; the program (or every program using the
    /// subprogram) whose CO-RE relocation failed; else the first enabled program that did not load, once the loader
    /// is known to have reached the programs. Empty when the failure is the object's (maps, externs, BTF, ...).
    /// </summary>
    private static List<string> Culprits(BpfObject obj, HashSet<string> enabled, Exception failure)
    {
        var result = new List<string>();
        string? named = failure switch
        {
            BpfVerifierException v => v.ProgramName,
            BpfCoreRelocationException c => c.ProgramName,
            _ => null,
        };
        if (named != null)
        {
            if (enabled.Contains(named))
            {
                result.Add(named);
                return result;
            }
            // A subprogram: every enabled program that calls it fails with it.
            foreach (var ps in obj.Spec.Programs)
            {
                if (!enabled.Contains(ps.Name)) continue;
                try
                {
                    foreach (var lf in ProgramLinker.Link(obj.Spec, ps).Layout)
                    {
                        if (lf.Function.Name == named)
                        {
                            result.Add(ps.Name);
                            break;
                        }
                    }
                }
                catch (BpfFormatException)
                {
                }
            }
            return result;
        }

        // Programs load in object order: the first enabled one without an id is where the loader stopped.
        BpfProgram? first = null;
        bool anyLoaded = false;
        foreach (var p in obj.Programs)
        {
            if (!enabled.Contains(p.Name)) continue;
            if (p.Id != 0)
                anyLoaded = true;
            else
            {
                first = p;
                break;
            }
        }
        if (first == null)
            return result; // every program loaded: the failure came after them (prog array slots, ...)
        bool reachedPrograms = anyLoaded || Mentions(failure.Message, first.Name);
        if (!reachedPrograms)
        {
            // No program loaded yet: the failure belongs to the first program only if every map was created.
            bool anyMap = false, allMaps = true;
            foreach (var m in obj.Maps)
            {
                if (!m.AutoCreate) continue;
                anyMap = true;
                if (m.Id == 0) allMaps = false;
            }
            reachedPrograms = anyMap && allMaps;
        }
        if (reachedPrograms)
            result.Add(first.Name);
        return result;
    }

    private static bool Mentions(string message, string program) =>
        message.Contains($"prog '{program}'", StringComparison.Ordinal) || message.Contains($"program '{program}'", StringComparison.Ordinal);

    /// <summary>The reason shown for a failed program: the verifier's last meaningful line and errno, or the loader's message.</summary>
    private static void Describe(ProgramOutcome o, Exception failure)
    {
        if (failure is BpfVerifierException v)
        {
            o.ErrnoName = Errno.Name(v.Errno);
            o.Error = $"{LastLogLine(v.VerifierLog)} ({o.ErrnoName})";
            o.VerifierLog = v.VerifierLog;
            return;
        }
        if (failure is BpfSyscallException s)
            o.ErrnoName = s.ErrnoName;
        o.Error = StripProgramPrefix(failure.Message, o.Spec.Name);
    }

    /// <summary>"prog 'x': reason" → "reason": the table already names the program.</summary>
    private static string StripProgramPrefix(string message, string program)
    {
        string prefix = $"prog '{program}': ";
        if (message.StartsWith(prefix, StringComparison.Ordinal))
            return message.Substring(prefix.Length);
        // "BPF_PROG_LOAD of program 'x' (Tracing, SEC("fentry/f")) failed: EPERM (...)" → "EPERM (...)"
        string load = $"BPF_PROG_LOAD of program '{program}'";
        int failed = message.IndexOf(" failed: ", StringComparison.Ordinal);
        if (message.StartsWith(load, StringComparison.Ordinal) && failed > 0)
            return message.Substring(failed + " failed: ".Length);
        return message;
    }

    /// <summary>The verifier's last line that says something (not the statistics it prints at the end).</summary>
    internal static string LastLogLine(string log)
    {
        var lines = log.Split('\n');
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            var l = lines[i].Trim();
            if (l.Length == 0 || l.StartsWith("processed ", StringComparison.Ordinal) || l.StartsWith("verification time", StringComparison.Ordinal)
                || l.StartsWith("stack depth", StringComparison.Ordinal))
                continue;
            return l;
        }
        return log.Trim().Length == 0 ? "the verifier refused the program (empty log)" : log.Trim();
    }

    // ------------------------------------------------------------------ pinning

    private const string BpffsRoot = "/sys/fs/bpf";

    private static bool NeedsPinRoot(BpfObjectSpec spec)
    {
        foreach (var m in spec.Maps)
            if (m.Pinning == MapPinning.ByName) return true;
        return false;
    }

    /// <summary>A private directory on the bpf filesystem for maps pinned by name, so that nothing stays pinned; null when there is no bpffs.</summary>
    private static string? CreatePinRoot()
    {
        if (!Directory.Exists(BpffsRoot))
            return null;
        string dir = Path.Combine(BpffsRoot, $"dotnet-ebpf-load-{Environment.ProcessId}-{Guid.NewGuid():N}".Substring(0, 40));
        try
        {
            Directory.CreateDirectory(dir);
            return dir;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void ClearPinRoot(string dir)
    {
        try
        {
            foreach (var f in Directory.GetFiles(dir))
                File.Delete(f);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void RemovePinRoot(string dir)
    {
        ClearPinRoot(dir);
        try
        {
            Directory.Delete(dir);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    // ------------------------------------------------------------------ output

    /// <summary>The running kernel's release (uname -r), as the runtime knows it.</summary>
    private static string KernelRelease => Ebpf.Kernel.KernelInfo.Release;

    private static string KernelLabel(Settings settings) =>
        settings.TargetBtf != null ? $"kernel {KernelRelease}, BTF from {settings.TargetBtf}" : $"kernel {KernelRelease}";

    private static void WriteText(TextWriter o, ObjectOutcome outcome, Settings settings)
    {
        int total = 0, loaded = 0, failed = 0, skipped = 0;
        foreach (var p in outcome.Programs)
        {
            total++;
            switch (p.Status)
            {
                case ProgramStatus.Loaded: loaded++; break;
                case ProgramStatus.Skipped: skipped++; break;
                case ProgramStatus.Failed: failed++; break;
            }
        }
        int tried = total - skipped;
        string verdict;
        if (outcome.Error != null)
            verdict = "FAILED";
        else if (loaded == tried)
            verdict = tried == total ? $"OK, {Plural(loaded, "program")} loaded" : $"OK, {loaded} of {Plural(total, "program")} loaded ({skipped} with autoload off)";
        else
            verdict = $"{loaded} of {Plural(tried, "program")} loaded, {failed} FAILED";
        o.Write($"{outcome.Path} ({KernelLabel(settings)}): {verdict}\n");
        if (outcome.Error != null)
            o.Write($"  error: {outcome.Error}\n");

        if (outcome.Maps.Count > 0)
        {
            var maps = new TextTable("MAP", "TYPE", "RESULT");
            foreach (var m in outcome.Maps)
                maps.Add(m.Spec.Name, KernelNames.Of(m.Spec.Type), m.Created ? $"created (id {m.Id})" : "not created");
            maps.Write(o, "  ");
        }
        if (outcome.Programs.Count > 0)
        {
            if (outcome.Maps.Count > 0)
                o.Write("\n");
            var progs = new TextTable("PROGRAM", "SECTION", "TYPE", "RESULT");
            foreach (var p in outcome.Programs)
            {
                progs.Add(p.Spec.Name, p.Spec.Function.SectionName,
                    p.Spec.ProgramType == BpfProgramType.Unspec ? "unknown" : KernelNames.Of(p.Spec.ProgramType), Result(p));
                if (settings.Log && p.VerifierLog != null)
                {
                    progs.Detail("verifier log:");
                    foreach (var line in p.VerifierLog.Split('\n'))
                        progs.Detail("  " + line);
                }
            }
            progs.Write(o, "  ");
        }
        else
        {
            o.Write("  (no programs)\n");
        }
    }

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    private static string Result(ProgramOutcome p) => p.Status switch
    {
        ProgramStatus.Loaded => $"loaded ({p.Instructions} insns, id {p.Id})",
        ProgramStatus.Failed => "FAILED: " + p.Error,
        ProgramStatus.Skipped => "skipped: autoload off (SEC(\"?...\")); --all loads it",
        _ => "not loaded: the object failed before its programs",
    };

    private static void WriteJson(TextWriter o, ObjectOutcome outcome, Settings settings) => JsonOutput.WriteLine(o, w =>
    {
        w.WriteStartObject();
        w.WriteString("file", outcome.Path);
        w.WriteString("object", outcome.Spec.Name);
        w.WriteString("kernel", KernelRelease);
        w.StringOrNull("target_btf", settings.TargetBtf);
        w.WriteBoolean("loaded", outcome.Success);
        w.StringOrNull("error", outcome.Error);
        w.WriteStartArray("maps");
        foreach (var m in outcome.Maps)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Spec.Name);
            w.WriteString("type", KernelNames.Of(m.Spec.Type));
            w.WriteBoolean("created", m.Created);
            w.NumberOrNull("id", m.Created ? m.Id : null);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("programs");
        foreach (var p in outcome.Programs)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Spec.Name);
            w.WriteString("section", p.Spec.Function.SectionName);
            w.StringOrNull("type", p.Spec.ProgramType == BpfProgramType.Unspec ? null : KernelNames.Of(p.Spec.ProgramType));
            w.WriteString("status", p.Status switch
            {
                ProgramStatus.Loaded => "loaded",
                ProgramStatus.Failed => "failed",
                ProgramStatus.Skipped => "skipped",
                _ => "not_loaded",
            });
            bool ok = p.Status == ProgramStatus.Loaded;
            w.NumberOrNull("instructions", ok ? p.Instructions : null);
            w.NumberOrNull("id", ok ? p.Id : null);
            w.StringOrNull("error", p.Status switch
            {
                ProgramStatus.Failed => p.Error,
                ProgramStatus.NotLoaded => outcome.Error != null ? "not loaded: " + outcome.Error : "not loaded",
                _ => null,
            });
            w.StringOrNull("errno", p.ErrnoName);
            if (settings.Log)
                w.StringOrNull("verifier_log", p.VerifierLog);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
