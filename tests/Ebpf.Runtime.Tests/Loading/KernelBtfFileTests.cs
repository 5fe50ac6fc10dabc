using System;
using System.IO;
using Ebpf.Btf;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// BTF files standing in for the kernel's (BpfObjectOptions.TargetBtfPath): raw, ELF with .BTF, or gzip-compressed,
/// told apart by their content (one gzip rule for every input), not by their names.
/// </summary>
public class KernelBtfFileTests
{
    private static string Stored => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz");

    [Fact]
    public void GzipIsRecognisedByItsMagicWhateverTheName()
    {
        string dir = TestEnvironment.TempDir("ebpf-btf-file");
        try
        {
            string misnamed = Path.Combine(dir, "vmlinux-6.1.btf");
            File.Copy(Stored, misnamed);
            string raw = Path.Combine(dir, "vmlinux-6.1.raw.gz");
            File.WriteAllBytes(raw, Gzip.Decompress(File.ReadAllBytes(Stored)));
            foreach (var path in new[] { Stored, misnamed, raw })
            {
                var spec = KernelBtf.LoadFile(path);
                Assert.True(spec.FindByName("task_struct", BtfKind.Struct) > 0, path);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AnElfFileWithBtfIsAccepted()
    {
        // An ELF file with a .BTF section (a vmlinux image does; a BPF object is the small case at hand).
        var spec = KernelBtf.LoadFile(TestEnvironment.Bpf("core_comm"));
        Assert.True(spec.FindByName("task_struct", BtfKind.Struct) > 0);
    }

    [Fact]
    public void CorruptGzipIsAnEnvironmentErrorAboutTheFile()
    {
        string dir = TestEnvironment.TempDir("ebpf-btf-file");
        try
        {
            string path = Path.Combine(dir, "broken.btf.gz");
            var bytes = File.ReadAllBytes(Stored);
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            var e = Assert.Throws<BpfEnvironmentException>(() => KernelBtf.LoadFile(path));
            Assert.StartsWith($"'{path}' is not valid BTF: gzip: ", e.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<BpfFormatException>(e.InnerException);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
