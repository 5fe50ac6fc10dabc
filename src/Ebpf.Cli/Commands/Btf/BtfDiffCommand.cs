using System.CommandLine;
using System.Linq;
using Ebpf.Btf;

namespace Ebpf.Cli.Commands.Btf;

/// <summary><c>btf diff FILE_A FILE_B [NAME...]</c>: which members moved, changed size or type, appeared or vanished.</summary>
internal static class BtfDiffCommand
{
    public static Command Create()
    {
        var fileA = new Argument<string>("FILE_A") { Description = "First BTF (raw, ELF with .BTF, or .gz)." };
        var fileB = new Argument<string>("FILE_B") { Description = "Second BTF (raw, ELF with .BTF, or .gz)." };
        var names = new Argument<string[]>("NAME")
        {
            Description = "Structs/unions to compare; all named ones present in both when omitted.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var cmd = new Command("diff", "Compare struct and union layouts between two BTF files (e.g. two kernels).")
        {
            fileA, fileB, names,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            string pathA = parse.GetValue(fileA)!;
            string pathB = parse.GetValue(fileB)!;
            var wanted = (parse.GetValue(names) ?? System.Array.Empty<string>()).Select(BtfStructCommand.StripKeyword).ToArray();
            var a = InputFiles.ReadBtf(pathA);
            var b = InputFiles.ReadBtf(pathB);
            var diff = BtfLayout.Diff(a, b, wanted);
            diff.Write(stdout, pathA, pathB);
            return 0;
        }));
        return cmd;
    }
}
