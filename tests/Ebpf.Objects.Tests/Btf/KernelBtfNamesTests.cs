using Ebpf.Btf;
using Xunit;

namespace Ebpf.Objects.Tests.Btf;

/// <summary>How kernel BTF files and embedded resources are named by kernel release and architecture.</summary>
public class KernelBtfNamesTests
{
    [Theory]
    [InlineData("kernels/6.1.0-56-amd64.btf.gz", "6.1.0-56-amd64")]
    [InlineData("btfhub-archive/ubuntu/20.04/x86_64/5.4.0-1103-aws.btf.tar.xz", "5.4.0-1103-aws")]
    [InlineData("/opt/btf/6.12.117+deb12-amd64.btf", "6.12.117+deb12-amd64")]
    [InlineData("vmlinux", null)]
    [InlineData("kernels/vmlinux.btf", null)]
    [InlineData(".btf.gz", null)]
    public void TheReleaseComesFromTheFileName(string path, string? release) =>
        Assert.Equal(release, KernelBtfNames.ReleaseFromFileName(path));

    [Theory]
    [InlineData("6.1.0-56-amd64", "x64")]
    [InlineData("5.10.0-46-cloud-arm64", "arm64")]
    [InlineData("6.12.117+deb12-amd64", "x64")]
    [InlineData("3.10.0-1160.el7.x86_64", "x64")]
    [InlineData("4.14.336-257.562.amzn2.aarch64", "arm64")]
    [InlineData("5.4.0-1103-aws", null)]
    [InlineData("5.15.0-91-generic", null)]
    [InlineData("6.18.44-fc-v1300", null)]
    public void TheArchitectureAReleaseNames(string release, string? architecture) =>
        Assert.Equal(architecture, KernelBtfNames.ArchitectureFromRelease(release));

    [Theory]
    [InlineData("btfhub-archive/ubuntu/20.04/x86_64/5.4.0-1103-aws.btf.tar.xz", "x64")]
    [InlineData("btfhub-archive/ubuntu/20.04/arm64/5.4.0-1103-aws.btf.tar.xz", "arm64")]
    [InlineData("kernels/aarch64/5.4.0-1103-aws.btf", "arm64")]
    [InlineData("kernels/5.4.0-1103-aws.btf", null)]
    [InlineData("x86_64/sub/5.4.0-1103-aws.btf", null)]   // only the directory the file is in
    [InlineData("5.4.0-1103-aws.btf", null)]
    public void TheArchitectureOfABtfHubDirectory(string path, string? architecture) =>
        Assert.Equal(architecture, KernelBtfNames.ArchitectureFromDirectory(path));

    [Theory]
    [InlineData("x64", "x64")]
    [InlineData("X86_64", "x64")]
    [InlineData(" amd64 ", "x64")]
    [InlineData("ARM64", "arm64")]
    [InlineData("aarch64", "arm64")]
    [InlineData("riscv64", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void ArchitectureNames(string? name, string? architecture) => Assert.Equal(architecture, CpuArchitecture.Normalize(name));

    [Theory]
    [InlineData("6.1.0-56-amd64", null, "ebpf/btf/6.1.0-56-amd64.btf.gz")]
    [InlineData("6.1.0-56-amd64", "x64", "ebpf/btf/x64/6.1.0-56-amd64.btf.gz")]
    [InlineData("5.4.0-1103-aws", "arm64", "ebpf/btf/arm64/5.4.0-1103-aws.btf.gz")]
    public void EmbeddedResourceNamesRoundTrip(string release, string? architecture, string name)
    {
        Assert.Equal(name, KernelBtfNames.EmbeddedResourceName(release, architecture));
        Assert.True(KernelBtfNames.TryParseEmbeddedResourceName(name, out var r, out var a));
        Assert.Equal(release, r);
        Assert.Equal(architecture, a);
    }

    [Theory]
    [InlineData("ebpf/exec_snoop.bpf.o")]
    [InlineData("ebpf/btf/.btf.gz")]
    [InlineData("ebpf/btf/riscv64/6.1.0-1.btf.gz")]
    [InlineData("ebpf/btf/x86_64/6.1.0-1.btf.gz")]        // written as the build writes it: x64
    [InlineData("ebpf/btf/x64/a/6.1.0-1.btf.gz")]
    [InlineData("ebpf/btf/vmlinux.btf.gz")]
    public void OtherResourcesAreNotKernelBtf(string name) =>
        Assert.False(KernelBtfNames.TryParseEmbeddedResourceName(name, out _, out _));
}
