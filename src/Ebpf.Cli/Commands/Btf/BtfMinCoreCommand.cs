using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Btf;

/// <summary>
/// <c>btf min-core OBJ... --btf KERNEL... -o DIR</c>: one minimized BTF per kernel, holding what the objects' CO-RE
/// relocations resolve against (bpftool's <c>gen min_core_btf</c>), written as <c>DIR/RELEASE.btf</c>.
/// </summary>
internal static class BtfMinCoreCommand
{
    public static Command Create()
    {
        var objects = new Argument<string[]>("OBJ")
        {
            Description = "BPF objects (.bpf.o) whose CO-RE relocations the minimized BTF must serve.",
            Arity = ArgumentArity.OneOrMore,
        };
        var kernels = new Option<string[]>("--btf", "-b")
        {
            Description = "Kernel BTF to minimize (raw or .gz), named RELEASE.btf[.gz] after the kernel's `uname -r`; " +
                "/sys/kernel/btf/vmlinux stands for the running kernel. Repeatable.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Directory to write RELEASE.btf files into (created if missing).",
            Required = true,
        };
        var cmd = new Command("min-core", "Cut kernel BTF down to what the objects' CO-RE relocations need, one file per kernel, for kernels without /sys/kernel/btf/vmlinux.")
        {
            objects, kernels, output,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var specs = new List<BpfObjectSpec>();
            foreach (var path in parse.GetValue(objects)!)
            {
                var spec = ObjectFiles.Read(path);
                if (spec.Btf == null)
                    throw new CliException($"{path}: the object has no BTF (.BTF section): compile it with clang -g");
                specs.Add(spec);
            }
            var releases = new Dictionary<string, string>(StringComparer.Ordinal);
            var inputs = new List<(string Path, string Release)>();
            foreach (var path in parse.GetValue(kernels)!)
            {
                string? release = path == Ebpf.Kernel.KernelBtf.VmlinuxPath ? Ebpf.Kernel.KernelInfo.Release : KernelBtfNames.ReleaseFromFileName(path);
                if (release == null)
                    throw new CliException($"{path}: cannot tell the kernel release from the file name: name it RELEASE.btf or RELEASE.btf.gz after the kernel's `uname -r` (e.g. 6.1.0-56-amd64.btf.gz)");
                if (releases.TryGetValue(release, out var other))
                    throw new CliException($"{path} and {other} are both BTF of kernel {release}");
                releases.Add(release, path);
                inputs.Add((path, release));
            }
            string dir = parse.GetValue(output)!;
            try
            {
                Directory.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{dir}: cannot create the output directory: {e.Message}");
            }

            bool first = true;
            foreach (var (path, release) in inputs)
            {
                var kernel = InputFiles.ReadBtf(path);
                if (kernel.Base != null)
                    throw new CliException($"{path}: split BTF (a module's) cannot be minimized; give the kernel's vmlinux BTF");
                var minimizer = new CoreBtfMinimizer(kernel, release);
                foreach (var spec in specs)
                {
                    var report = minimizer.Add(spec);
                    if (!first)
                        continue;
                    foreach (var need in report.NeedsKernelBtf)
                        stderr.WriteLine($"dotnet-ebpf: warning: {spec.Name}: {need}: that needs the kernel's own BTF, which a minimized BTF cannot stand in for (a kernel without BTF cannot run it)");
                    foreach (var note in report.Notes)
                        stderr.WriteLine($"dotnet-ebpf: warning: {spec.Name}: {note}");
                }
                first = false;
                var min = minimizer.Build();
                string target = Path.Combine(dir, KernelBtfNames.FileName(release));
                try
                {
                    File.WriteAllBytes(target, min.Bytes);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"{target}: cannot write: {e.Message}");
                }
                int matched = 0, unmatched = 0;
                foreach (var r in minimizer.Objects)
                {
                    matched += r.Matched;
                    unmatched += r.Unmatched;
                }
                stdout.WriteLine($"{release}: {min.TypeCount} of {min.KernelTypeCount} types, {min.Bytes.Length} bytes; {matched} relocations resolve, {unmatched} find nothing on this kernel -> {target}");
            }
            return 0;
        }));
        return cmd;
    }
}
