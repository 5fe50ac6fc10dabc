using System.CommandLine;
using Ebpf.Btf;

namespace Ebpf.Cli.Commands.Btf;

/// <summary><c>btf struct NAME [--btf FILE]</c>: pahole-style layout of one struct or union.</summary>
internal static class BtfStructCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME")
        {
            Description = "Name of a struct or union (or of a typedef to one), e.g. task_struct.",
        };
        var btfFile = new Option<string>("--btf")
        {
            HelpName = "FILE",
            Description = "BTF to read: raw BTF or an ELF object with .BTF; .gz is decompressed.",
            DefaultValueFactory = _ => Ebpf.Kernel.KernelBtf.VmlinuxPath,
        };
        var baseFile = new Option<string?>("--base", "-B")
        {
            HelpName = "FILE",
            Description = "Base BTF when --btf is split BTF (a kernel module's).",
        };
        var cmd = new Command("struct", "Show the memory layout of a struct or union: offsets (hex and decimal), sizes, bitfields, holes and padding.")
        {
            name, btfFile, baseFile,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            string path = parse.GetValue(btfFile)!;
            string? basePath = parse.GetValue(baseFile);
            string typeName = parse.GetValue(name)!;
            var spec = InputFiles.ReadBtf(path, basePath is null ? null : InputFiles.ReadBtf(basePath));
            var layout = BtfLayout.Find(spec, StripKeyword(typeName))
                ?? throw new CliException($"{path}: no struct or union named '{typeName}'");
            layout.Write(stdout);
            return 0;
        }));
        return cmd;
    }

    /// <summary>Accepts "struct task_struct" as well as "task_struct".</summary>
    internal static string StripKeyword(string name)
    {
        name = name.Trim();
        foreach (var kw in new[] { "struct ", "union " })
        {
            if (name.StartsWith(kw, System.StringComparison.Ordinal))
                return name.Substring(kw.Length).Trim();
        }
        return name;
    }
}
