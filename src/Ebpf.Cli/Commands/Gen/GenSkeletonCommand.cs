using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using Ebpf.Generator.Emitter;
using Ebpf.Generator.Model;
using Ebpf.Generator.Parser;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Gen;

/// <summary>
/// <c>gen skeleton OBJ [--class-name NAME] [--namespace NS] [--types T,...] [--resource-name NAME] [-o FILE]</c>:
/// prints the skeleton the source generator makes for a <c>&lt;BpfObject&gt;</c> item with the same metadata
/// (the generator's model builder and emitter are compiled into the CLI), for users without MSBuild and for inspection.
/// </summary>
internal static class GenSkeletonCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("OBJ") { Description = "The BPF object (clang -g -O2 -target bpf output)." };
        var className = new Option<string?>("--class-name") { HelpName = "NAME", Description = "Skeleton class name (default: the object name in PascalCase + Skeleton, e.g. ExecSnoopSkeleton)." };
        var ns = new Option<string?>("--namespace") { HelpName = "NS", Description = "Namespace of the skeleton (default: none)." };
        var types = new Option<string?>("--types") { HelpName = "T1,T2", Description = "Extra BTF types to generate, e.g. the ring-buffer event struct (the BpfObject item's Types metadata)." };
        var resource = new Option<string?>("--resource-name") { HelpName = "NAME", Description = "Manifest resource name Open() loads the object from (default: ebpf/<file name>, as the build embeds it)." };
        var output = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Write the source to FILE instead of standard output." };
        var cmd = new Command("skeleton", "Print the C# skeleton of a BPF object: typed maps, programs, links, global variables and BTF types.")
        {
            file, className, ns, types, resource, output,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            string path = parse.GetValue(file)!;
            byte[] bytes = InputFiles.ReadBytes(path);
            string fileName = Path.GetFileName(path);
            string objectName = BpfObjectSpec.ObjectNameFromPath(fileName);
            string cls = parse.GetValue(className) ?? CSharpNames.SkeletonClassName(objectName);
            if (!CSharpNames.IsValidIdentifier(cls) || CSharpNames.IsKeyword(cls))
                throw new CliException($"--class-name: '{cls}' is not a C# identifier");
            string? nsValue = parse.GetValue(ns);
            if (nsValue is not null)
                nsValue = CSharpNames.NormalizeNamespace(nsValue) ?? throw new CliException($"--namespace: '{nsValue}' is not a C# namespace");
            var extra = new List<string>();
            foreach (var t in (parse.GetValue(types) ?? string.Empty).Split(',', ';'))
                if (t.Trim().Length > 0) extra.Add(t.Trim());
            var options = new SkeletonOptions(path, objectName, cls.TrimStart('@'), nsValue, parse.GetValue(resource) ?? SkeletonOptions.DefaultResourceName(fileName),
                extra.ToImmutableEquatableArray());

            var result = SkeletonModelBuilder.Build(options, bytes, default);
            var stderr = parse.InvocationConfiguration.Error;
            bool failed = false;
            foreach (var d in result.Diagnostics)
            {
                bool error = d.Kind.Level == DiagnosticLevel.Error;
                failed |= error;
                stderr.WriteLine($"{path}: {(error ? "error" : "warning")} {d.Id}: {d.Message}");
            }
            if (failed || result.Model is null)
                return CliApp.ExitError;
            string source = SkeletonEmitter.Emit(result.Model);
            string? target = parse.GetValue(output);
            if (target is null)
                stdout.Write(source);
            else
                File.WriteAllText(target, source);
            return 0;
        }));
        return cmd;
    }
}
