using System.CommandLine;
using Ebpf.Btf;

namespace Ebpf.Cli.Commands.Btf;

/// <summary><c>btf dump FILE [--format raw|c] [--base FILE]</c>: bpftool's <c>btf dump file</c>.</summary>
internal static class BtfDumpCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE")
        {
            Description = "Raw BTF (e.g. /sys/kernel/btf/vmlinux) or an ELF object with a .BTF section; .gz is decompressed.",
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "raw: bpftool's raw listing (identical to 'bpftool btf dump file FILE format raw'); c: a compilable C header (vmlinux.h).",
            DefaultValueFactory = _ => "raw",
        };
        format.AcceptOnlyFromAmong("raw", "c");
        var baseFile = new Option<string?>("--base", "-B")
        {
            HelpName = "FILE",
            Description = "Base BTF for split BTF (e.g. /sys/kernel/btf/vmlinux when FILE is a module's BTF); only FILE's own types are dumped in raw format.",
        };
        var cmd = new Command("dump", "Dump all types of a BTF file, raw (like bpftool) or as C.") { file, format, baseFile };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            string path = parse.GetValue(file)!;
            string? basePath = parse.GetValue(baseFile);
            BtfSpec? baseSpec = basePath is null ? null : InputFiles.ReadBtf(basePath);
            var spec = InputFiles.ReadBtf(path, baseSpec);
            try
            {
                if (parse.GetValue(format) == "c")
                    BtfCDump.WriteC(spec, stdout);
                else
                    BtfRawDump.WriteRaw(spec, stdout);
            }
            catch (BpfFormatException e)
            {
                throw new CliException($"{path}: {e.Message}");
            }
            return 0;
        }));
        return cmd;
    }
}
