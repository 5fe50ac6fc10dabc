using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Object;

/// <summary>
/// <c>object load OBJ... [--target-btf FILE] [--json] [--log] [--all]</c>: loads each object into the kernel (maps and
/// programs, nothing attached), reports every map's and program's fate with its own reason, and closes everything again.
/// </summary>
/// <remarks>
/// A view of the runtime's <see cref="BpfLoadReport"/>: the object is loaded once with
/// <see cref="BpfLoadMode.ContinueOnFailure"/> (as bpftool prog loadall would try each program), so a program the
/// verifier refuses, or one that needs a map or a CO-RE relocation that failed, does not keep the others from
/// loading. The privilege check is the runtime's (<see cref="KernelFeatures.EnsureBpfPermitted"/>); maps pinned by
/// name are pinned in a private directory on the bpf filesystem (<see cref="BpfFs.CreateTemporaryDirectory"/>),
/// removed afterwards.
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
        var json = new Option<bool>("--json") { Description = "One JSON object per object and line: maps and programs with status, id, error." };
        var log = new Option<bool>("--log", "--verbose", "-v") { Description = "Print the verifier's whole log under each program it rejected." };
        var all = new Option<bool>("--all") { Description = "Also load programs whose autoload is off (SEC(\"?...\"))." };
        var cmd = new Command("load", "Load each object into the kernel (maps and programs, nothing attached), report per map and program " +
            "whether it loaded or why it failed (the verifier's refusal, a CO-RE relocation, a map it needs), and unload everything again. " +
            "Needs root (CAP_BPF). Exit 0 when everything loaded.")
        {
            files, targetBtf, json, log, all,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            var paths = parse.GetValue(files) ?? Array.Empty<string>();
            var settings = new Settings(parse.GetValue(targetBtf), parse.GetValue(json), parse.GetValue(log), parse.GetValue(all));
            if (settings.TargetBtf != null && !File.Exists(settings.TargetBtf))
                throw new CliException($"{settings.TargetBtf}: no such file");
            int rc = 0;
            for (int i = 0; i < paths.Length; i++)
            {
                if (i > 0 && !settings.Json)
                    stdout.Write('\n');
                try
                {
                    rc = Math.Max(rc, LoadOne(paths[i], settings, stdout));
                }
                catch (Exception e) when (e is CliException or BpfException or IOException or UnauthorizedAccessException)
                {
                    stdout.Flush();
                    parse.InvocationConfiguration.Error.WriteLine($"dotnet-ebpf: {(e is CliException ? string.Empty : paths[i] + ": ")}{e.Message}");
                    rc = CliApp.ExitError;
                }
            }
            return rc;
        }));
        return cmd;
    }

    private sealed record Settings(string? TargetBtf, bool Json, bool Log, bool All);

    private static int LoadOne(string path, Settings settings, TextWriter stdout)
    {
        var bytes = InputFiles.ReadBytes(path);
        var obj = BpfObject.Open(bytes, BpfObjectSpec.ObjectNameFromPath(path), new BpfObjectOptions { TargetBtfPath = settings.TargetBtf });
        BpfFsDirectory? pins = null;
        try
        {
            ObjectFiles.RequireHostByteOrder(path, obj.Spec);
            KernelFeatures.Current.EnsureBpfPermitted();
            // Without a bpf filesystem the loader reports each pinned map's failure with the fix.
            if (obj.Spec.Maps.Any(m => m.Pinning == MapPinning.ByName) && BpfFs.ProblemWith(BpfFs.DefaultRoot) == null)
                obj.PinRoot = (pins = BpfFs.CreateTemporaryDirectory("dotnet-ebpf-load-")).Path;
            if (settings.All)
                foreach (var p in obj.Programs) p.Autoload = true;
            var report = obj.Load(BpfLoadMode.ContinueOnFailure);
            if (settings.Json)
                WriteJson(stdout, path, report, settings);
            else
                WriteText(stdout, path, report, settings);
            return report.Succeeded ? 0 : CliApp.ExitError;
        }
        finally
        {
            obj.Dispose(); // the maps and programs first, then their pins
            pins?.Dispose();
        }
    }

    // ------------------------------------------------------------------ output

    private static void WriteText(TextWriter o, string path, BpfLoadReport report, Settings settings)
    {
        int total = report.Programs.Count, loaded = report.Programs.Count(p => p.Status == BpfProgramLoadStatus.Loaded);
        int failed = report.Programs.Count(p => p.Status == BpfProgramLoadStatus.Failed), skipped = report.Programs.Count(p => p.Status == BpfProgramLoadStatus.Skipped);
        int tried = total - skipped;
        string verdict = report.Error != null ? "FAILED"
            : loaded == tried && report.Succeeded ? (tried == total ? $"OK, {Plural(loaded, "program")} loaded" : $"OK, {loaded} of {Plural(total, "program")} loaded ({skipped} with autoload off)")
            : $"{loaded} of {Plural(tried, "program")} loaded, {failed} FAILED";
        o.Write($"{path} (kernel {KernelInfo.Release}{(settings.TargetBtf != null ? ", BTF from " + settings.TargetBtf : string.Empty)}): {verdict}\n");
        if (report.Error != null)
            o.Write($"  error: {report.Error.Message}\n");
        if (report.Maps.Count > 0)
        {
            var maps = new TextTable("MAP", "TYPE", "RESULT");
            foreach (var m in report.Maps)
                maps.Add(m.Name, KernelNames.Of(m.Map.Type), Result(m));
            maps.Write(o, "  ");
        }
        if (report.Programs.Count == 0)
        {
            o.Write("  (no programs)\n");
            return;
        }
        if (report.Maps.Count > 0)
            o.Write("\n");
        var progs = new TextTable("PROGRAM", "SECTION", "TYPE", "RESULT");
        foreach (var p in report.Programs)
        {
            progs.Add(p.Name, Section(p.Program), TypeName(p.Program) ?? "unknown", Result(p));
            if (settings.Log && p.Status == BpfProgramLoadStatus.Failed && p.VerifierLog != null)
            {
                progs.Detail("verifier log:");
                foreach (var line in p.VerifierLog.Split('\n'))
                    progs.Detail("  " + line);
            }
        }
        progs.Write(o, "  ");
    }

    private static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    /// <summary>The ELF section as written in SEC(), "?" of autoload off included.</summary>
    private static string Section(BpfProgram p) => p.Spec?.Function.SectionName ?? p.SectionName;

    private static string? TypeName(BpfProgram p) => p.Type == BpfProgramType.Unspec ? null : KernelNames.Of(p.Type);

    private static string Result(BpfMapLoadOutcome m) => m.Status switch
    {
        BpfMapLoadStatus.Created or BpfMapLoadStatus.Pinned => $"created (id {m.Id})",
        BpfMapLoadStatus.Reused => $"reused (id {m.Id})",
        BpfMapLoadStatus.Skipped => "not created: AutoCreate is off",
        BpfMapLoadStatus.Failed => "FAILED: " + m.Error!.Reason,
        _ => "not created: the object failed before its maps",
    };

    private static string Result(BpfProgramLoadOutcome p) => p.Status switch
    {
        BpfProgramLoadStatus.Loaded => $"loaded ({p.InstructionCount} insns, id {p.Id})",
        BpfProgramLoadStatus.Failed => "FAILED: " + p.Error!.Reason,
        BpfProgramLoadStatus.Skipped when p.Program.Spec?.Autoload == false => "skipped: autoload off (SEC(\"?...\")); --all loads it",
        BpfProgramLoadStatus.Skipped => "skipped: no struct_ops map that is created uses it",
        _ => "not loaded: the object failed before its programs",
    };

    private static void WriteJson(TextWriter o, string path, BpfLoadReport report, Settings settings) => JsonOutput.WriteLine(o, w =>
    {
        w.WriteStartObject();
        w.WriteString("file", path);
        w.WriteString("object", report.ObjectName);
        w.WriteString("kernel", KernelInfo.Release);
        w.StringOrNull("target_btf", settings.TargetBtf);
        w.WriteBoolean("loaded", report.Succeeded);
        w.StringOrNull("error", report.Error?.Message);
        w.WriteStartArray("maps");
        foreach (var m in report.Maps)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("type", KernelNames.Of(m.Map.Type));
            w.WriteString("status", m.Status == BpfMapLoadStatus.NotAttempted ? "not_created" : m.Status.ToString().ToLowerInvariant());
            w.WriteBoolean("created", m.Status is BpfMapLoadStatus.Created or BpfMapLoadStatus.Pinned);
            w.NumberOrNull("id", m.Id != 0 ? m.Id : null);
            w.StringOrNull("error", m.Error?.Reason);
            w.StringOrNull("errno", m.Error?.ErrnoName);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("programs");
        foreach (var p in report.Programs)
        {
            bool ok = p.Status == BpfProgramLoadStatus.Loaded;
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteString("section", Section(p.Program));
            w.StringOrNull("type", TypeName(p.Program));
            w.WriteString("status", p.Status == BpfProgramLoadStatus.NotAttempted ? "not_loaded" : p.Status.ToString().ToLowerInvariant());
            w.NumberOrNull("instructions", ok ? p.InstructionCount : null);
            w.NumberOrNull("id", ok ? p.Id : null);
            w.StringOrNull("error", p.Status == BpfProgramLoadStatus.NotAttempted ? "not loaded" + (report.Error != null ? ": " + report.Error.Message : string.Empty) : p.Error?.Reason);
            w.StringOrNull("errno", p.Error?.ErrnoName);
            if (settings.Log)
                w.StringOrNull("verifier_log", p.Status == BpfProgramLoadStatus.Failed ? p.VerifierLog : null);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
