using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Threading;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Core;

/// <summary>
/// <c>core relocate OBJ... [--target-btf FILE] [--json]</c>: every CO-RE relocation of each object resolved against
/// the running kernel (or a BTF file), with libbpf's decisions: the old and new instruction values, poisoned ones,
/// and fatal errors that make libbpf refuse the object (exit 1).
/// </summary>
internal static class RelocateCommand
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
            Description = "Resolve against this kernel BTF (raw, an ELF with .BTF, or .gz) instead of the running kernel's " +
                "(/sys/kernel/btf/vmlinux and its modules): libbpf's btf_custom_path.",
        };
        var json = new Option<bool>("--json")
        {
            Description = "One JSON object per relocation and line (JSON Lines): section, program, relo, insn, kind, type, spec, old, new, poisoned, error (and object with several objects).",
        };
        var cmd = new Command("relocate", "Show how each CO-RE relocation of an object resolves against a kernel, as libbpf would decide: " +
            "old → new value, poisoned (unresolvable, left for the verifier), or an error libbpf refuses the object for (exit 1).")
        {
            files, targetBtf, json,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            var paths = parse.GetValue(files) ?? Array.Empty<string>();
            var stderr = parse.InvocationConfiguration.Error;
            var run = new Run(parse.GetValue(targetBtf), parse.GetValue(json), paths.Length > 1, stdout, stderr);
            if (paths.Length == 1)
                return run.Relocate(paths[0]); // errors propagate to CliAction: one line, exit 1
            int rc = 0;
            for (int i = 0; i < paths.Length; i++)
            {
                string path = paths[i];
                if (i > 0 && !parse.GetValue(json))
                    stdout.Write('\n');
                try
                {
                    rc = Math.Max(rc, run.Relocate(path));
                }
                catch (CliException e)
                {
                    stdout.Flush();
                    stderr.WriteLine($"dotnet-ebpf: {e.Message}");
                    rc = CliApp.ExitError;
                }
                catch (BpfFormatException e)
                {
                    stdout.Flush();
                    stderr.WriteLine($"dotnet-ebpf: {path}: {e.Message}");
                    rc = CliApp.ExitError;
                }
            }
            return rc;
        }));
        return cmd;
    }

    private sealed class Run
    {
        private readonly string? _targetPath;
        private readonly bool _json;
        private readonly bool _several;
        private readonly TextWriter _out;
        private readonly TextWriter _err;
        private CoreTargets? _targets;

        public Run(string? targetPath, bool json, bool several, TextWriter stdout, TextWriter stderr)
        {
            _targetPath = targetPath;
            _json = json;
            _several = several;
            _out = stdout;
            _err = stderr;
        }

        /// <summary>The target, read once and only when some object has CO-RE relocations (as libbpf does).</summary>
        private CoreTargets Targets()
        {
            if (_targets != null)
                return _targets;
            if (_targetPath != null)
                return _targets = new CoreTargets(InputFiles.ReadBtf(_targetPath), _targetPath);
            try
            {
                return _targets = KernelBtf.Targets(null);
            }
            catch (BpfEnvironmentException e)
            {
                throw new CliException($"{e.Message} (or pass --target-btf FILE)");
            }
            catch (BpfFormatException e)
            {
                throw new CliException($"{KernelBtf.VmlinuxPath}: {e.Message}");
            }
        }

        public int Relocate(string path)
        {
            var spec = ObjectFiles.Read(path);
            ObjectFiles.RequireHostByteOrder(path, spec);
            int records = ObjectFiles.CoreRelocationCount(spec);
            if (records == 0 || spec.Btf is null || spec.BtfExt is null)
            {
                if (!_json)
                    _out.Write($"{path}: no CO-RE relocations{(spec.Btf is null ? " (no .BTF: built without -g)" : string.Empty)}\n");
                return 0;
            }
            var targets = Targets();
            CoreRelocationReport report;
            try
            {
                report = CoreRelocator.RelocateObject(spec.Elf, spec.Btf, spec.BtfExt, new CoreCandidateCache(targets), null, CancellationToken.None);
            }
            catch (BpfFormatException e)
            {
                throw new CliException($"{path}: {e.Message}");
            }
            if (_json)
                WriteJson(path, report);
            else
                WriteText(path, report);

            if (!report.HasFatalErrors)
                return 0;
            _out.Flush();
            int fatal = 0;
            CoreRelocationResult? first = null;
            foreach (var r in report.Results)
            {
                if (!r.IsFatal) continue;
                fatal++;
                first ??= r;
            }
            _err.WriteLine($"dotnet-ebpf: {path}: {Where(first!)}: relo #{first!.RecordIndex} ({Describe(first)}): " +
                $"{first.Error}: libbpf refuses this object{(fatal > 1 ? $" ({fatal} such relocations)" : string.Empty)}");
            return CliApp.ExitError;
        }

        /// <summary>"byte_off struct task_struct, task_struct.comm, insn #14" (the access string when the spec did not parse).</summary>
        private static string Describe(CoreRelocationResult r) =>
            $"{r.Kind.ToShortName()} {r.LocalTypeName}, {(r.FieldPath != null ? r.FieldPath : $"access \"{r.AccessString}\"")}, insn #{r.InstructionIndex}";

        private static string Where(CoreRelocationResult r) =>
            r.Program != null ? $"sec '{r.Section}' prog '{r.Program}'" : $"sec '{r.Section}'";

        private void WriteJson(string path, CoreRelocationReport report)
        {
            foreach (var r in report.Results)
            {
                JsonOutput.WriteLine(_out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("section", r.Section);
                    w.StringOrNull("program", r.Program);
                    w.WriteNumber("relo", r.RecordIndex);
                    w.WriteNumber("insn", r.InstructionIndex);
                    w.WriteString("kind", r.Kind.ToShortName());
                    w.WriteString("type", r.LocalTypeName);
                    w.WriteString("spec", r.AccessString);
                    w.NumberOrNull("old", r.OldValue);
                    w.NumberOrNull("new", r.Status == CoreRelocationStatus.Applied ? r.NewValue : null);
                    w.WriteBoolean("poisoned", r.Poisoned);
                    w.StringOrNull("error", ErrorText(r));
                    if (_several)
                        w.WriteString("object", path);
                    w.WriteEndObject();
                });
            }
        }

        /// <summary>Why a relocation is not applied: poisoned, fatal, or skipped (as libbpf skips it); null when applied.</summary>
        private static string? ErrorText(CoreRelocationResult r) => r.Status switch
        {
            CoreRelocationStatus.Applied => null,
            CoreRelocationStatus.Skipped => "skipped: " + (r.Note ?? "not relocated"),
            _ => r.Error ?? (r.Poisoned ? "unresolvable relocation" : "failed"),
        };

        private void WriteText(string path, CoreRelocationReport report)
        {
            int applied = 0, poisoned = 0, skipped = 0, failed = 0;
            foreach (var r in report.Results)
            {
                switch (r.Status)
                {
                    case CoreRelocationStatus.Applied: applied++; break;
                    case CoreRelocationStatus.Poisoned: poisoned++; break;
                    case CoreRelocationStatus.Skipped: skipped++; break;
                    default: failed++; break;
                }
            }
            var summary = new List<string> { $"{applied} applied" };
            if (poisoned > 0) summary.Add($"{poisoned} poisoned");
            if (skipped > 0) summary.Add($"{skipped} skipped");
            if (failed > 0) summary.Add($"{failed} FAILED");
            _out.Write($"{path} against {report.TargetLabel}: {report.Results.Count} CO-RE relocation{(report.Results.Count == 1 ? "" : "s")}, {string.Join(", ", summary)}\n");
            var t = new TextTable("SECTION", "PROGRAM", "RELO", "INSN", "KIND", "TYPE", "FIELD", "RESULT").AlignRight(2).AlignRight(3);
            foreach (var r in report.Results)
            {
                t.Add(r.Section, r.Program ?? "-", r.RecordIndex.ToString(CultureInfo.InvariantCulture), r.InstructionIndex.ToString(CultureInfo.InvariantCulture),
                    r.Kind.ToShortName(), r.LocalTypeName, Field(r), Result(r));
            }
            t.Write(_out, "  ");
        }

        /// <summary>The field path ("task_struct.comm"), the enumerator, or the access string when the spec did not parse.</summary>
        private static string Field(CoreRelocationResult r)
        {
            if (!string.IsNullOrEmpty(r.FieldPath))
                return r.FieldPath!;
            if (r.Kind.IsTypeBased())
                return "-";
            return r.AccessString.Length == 0 ? "-" : "(" + r.AccessString + ")";
        }

        private static string Result(CoreRelocationResult r)
        {
            switch (r.Status)
            {
                case CoreRelocationStatus.Applied:
                    string s = $"{Value(r.OldValue)} → {Value(r.NewValue)}";
                    if (r.OldMemorySize.HasValue && r.NewMemorySize.HasValue && r.OldMemorySize != r.NewMemorySize)
                        s += $" (load size {r.OldMemorySize} → {r.NewMemorySize} bytes)";
                    return s;
                case CoreRelocationStatus.Poisoned:
                    return "POISONED: " + (r.Error ?? "unresolvable");
                case CoreRelocationStatus.Skipped:
                    return "skipped: " + (r.Note ?? "not relocated");
                default:
                    return "ERROR: " + (r.Error ?? "failed");
            }
        }

        private static string Value(long? v) => v.HasValue ? v.Value.ToString(CultureInfo.InvariantCulture) : "?";
    }
}
