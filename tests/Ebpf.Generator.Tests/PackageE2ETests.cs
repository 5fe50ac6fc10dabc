using System;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// tests/e2e/package-e2e.sh as a test: pack, consume from a local feed, build, run on the kernel (see the script).
/// </summary>
public class PackageE2ETests
{
    [Fact]
    public void PackConsumeBuildAndRunAsAUser()
    {
        if (Environment.GetEnvironmentVariable("EBPF_SKIP_E2E") == "1")
            Assert.Skip("EBPF_SKIP_E2E=1");
        TestEnvironment.RequireTool("dotnet", "dotnet-sdk");
        string work = TestEnvironment.TempDir("ebpf-e2e");
        try
        {
            string script = Path.Combine(TestEnvironment.RepoRoot, "tests", "e2e", "package-e2e.sh");
            var argv = new System.Collections.Generic.List<string> { script, work };
            var (code, stdout, stderr) = TestEnvironment.Run("/bin/bash", argv, timeoutMs: 15 * 60_000);
            TestContext.Current.TestOutputHelper?.WriteLine(stdout);
            Assert.True(code == 0, $"package-e2e.sh failed ({code}):\n{stdout}\n{stderr}");
            Assert.Contains("E2E: all ok", stdout);
            if (TestEnvironment.IsRoot)
                Assert.Contains("E2E: run ok", stdout);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
