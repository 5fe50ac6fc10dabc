using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Objects;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// tests/e2e/package-e2e.sh as a test: pack every package, check what each carries, consume Ebpf.Skeletons from a
/// local feed, build, run on the kernel, install Ebpf.Cli as a .NET tool and run it, instantiate the ebpf-tracer
/// template, build it with clang and see it trace (see the script); then what the package's build embedded for
/// <c>&lt;BpfKernelBtf Embed="true"/&gt;</c> is checked here.
/// </summary>
public class PackageE2ETests
{
    [Fact]
    public void PackConsumeBuildAndRunAsAUser()
    {
        if (Environment.GetEnvironmentVariable("EBPF_SKIP_E2E") == "1")
            Assert.Skip("EBPF_SKIP_E2E=1");
        TestEnvironment.RequireTool("dotnet", "dotnet-sdk");
        TestEnvironment.RequireTool("xz", "xz-utils");
        TestEnvironment.RequireTool("unzip", "unzip");
        string work = TestEnvironment.TempDir("ebpf-e2e");
        try
        {
            string script = Path.Combine(TestEnvironment.RepoRoot, "tests", "e2e", "package-e2e.sh");
            var argv = new List<string> { script, work };
            var (code, stdout, stderr) = TestEnvironment.Run("/bin/bash", argv, timeoutMs: 20 * 60_000);
            TestContext.Current.TestOutputHelper?.WriteLine(stdout);
            Assert.True(code == 0, $"package-e2e.sh failed ({code}):\n{stdout}\n{stderr}");
            Assert.Contains("E2E: all ok", stdout);
            Assert.Contains("E2E: embed ok", stdout);
            Assert.Contains("E2E: embed-incremental ok", stdout);
            Assert.Contains("E2E: quality ok", stdout);
            Assert.Contains("E2E: tool ok", stdout);
            bool clang = TestEnvironment.Which("clang") != null;
            if (clang)
                Assert.Contains("E2E: template ok", stdout);
            if (clang && TestEnvironment.IsRoot)
                Assert.Contains("E2E: template-run ok", stdout);
            if (TestEnvironment.IsRoot)
                Assert.Contains("E2E: run ok", stdout);
            if (TestEnvironment.IsRoot && File.Exists("/sys/kernel/btf/vmlinux"))
            {
                Assert.Contains("E2E: embed-run ok", stdout);
                Assert.Contains("E2E: embed-none ok", stdout);
            }
            CheckEmbeddedKernelBtf(Path.Combine(work, "app_btf", "bin", "Release", "net10.0", "App.dll"));
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Each embedded kernel BTF (<c>ebpf/btf/[ARCH/]RELEASE.btf.gz</c>) is the minimizer's output for the app's object
    /// and that kernel, and every CO-RE decision of the object against it equals the decision against the kernel's
    /// full BTF (stored in tests/data/btf, or the running kernel's).
    /// </summary>
    private static void CheckEmbeddedKernelBtf(string appPath)
    {
        var ct = TestContext.Current.CancellationToken;
        var context = new AssemblyLoadContext("e2e-embedded-btf", isCollectible: true);
        try
        {
            var app = context.LoadFromAssemblyPath(appPath);
            var obj = BpfObjectSpec.Parse(ReadResource(app, "ebpf/exec_snoop.bpf.o"), "exec_snoop");
            Assert.NotNull(obj.BtfExt);
            string running = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            int kernels = 0, compared = 0;
            foreach (var name in app.GetManifestResourceNames().OrderBy(n => n, StringComparer.Ordinal))
            {
                if (!KernelBtfNames.TryParseEmbeddedResourceName(name, out var release, out var arch))
                    continue;
                string stored = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", release + ".btf.gz");
                byte[] fullBytes = File.Exists(stored) ? Gzip.Decompress(File.ReadAllBytes(stored))
                    : release == running ? File.ReadAllBytes("/sys/kernel/btf/vmlinux")
                    : throw new Xunit.Sdk.XunitException($"{name}: no full BTF of kernel {release} to compare with");
                var full = BtfSpec.Parse(fullBytes);
                byte[] embedded = Gzip.Decompress(ReadResource(app, name));

                var minimizer = new CoreBtfMinimizer(full, release);
                minimizer.Add(obj, ct);
                Assert.True(minimizer.Build().Bytes.AsSpan().SequenceEqual(embedded), $"{name}: the embedded BTF is not the minimizer's output for exec_snoop.bpf.o and kernel {release}");

                var min = BtfSpec.Parse(embedded);
                Assert.True(min.TypeCount < full.TypeCount / 100, $"{name}: {min.TypeCount} types of {full.TypeCount}: not minimized");
                var expected = CoreRelocator.RelocateObject(obj.Elf, obj.Btf!, obj.BtfExt!, new CoreTargets(full, release), ct);
                var actual = CoreRelocator.RelocateObject(obj.Elf, obj.Btf!, obj.BtfExt!, new CoreTargets(min, name), ct);
                Assert.Contains(expected.Results, r => r.Status == CoreRelocationStatus.Applied);
                compared += CoreDecisions.AssertSame($"exec_snoop.bpf.o on {name}{(arch == null ? string.Empty : " (" + arch + ")")}", expected, full, actual, min);
                kernels++;
            }
            Assert.True(kernels >= 4, $"{kernels} embedded kernel BTFs in {appPath}");
            TestContext.Current.SendDiagnosticMessage($"package e2e: {kernels} embedded kernel BTFs, {compared} CO-RE decisions equal to the full BTF's");
        }
        finally
        {
            context.Unload();
        }
    }

    private static byte[] ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new Xunit.Sdk.XunitException($"{assembly.GetName().Name} has no resource {name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
