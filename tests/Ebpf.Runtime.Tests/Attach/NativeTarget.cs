using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// native/uprobe_target.c compiled with gcc at test time (once per test run), or cross-compiled next to a published
/// test suite, and loaded into this process: the functions the uprobe and USDT tests probe, called through function
/// pointers.
/// </summary>
internal static unsafe class NativeTarget
{
    private static readonly Lazy<(string? Path, string? Error)> s_built = new Lazy<(string?, string?)>(Build, LazyThreadSafetyMode.ExecutionAndPublication);
    private static IntPtr s_handle;
    private static delegate* unmanaged<int, int, int> s_target;
    private static delegate* unmanaged<long, long, int> s_fire;
    private static delegate* unmanaged<int> s_enabled;

    private static (string?, string?) Build()
    {
        // A cross-compiled copy published next to the tests (tests/kernels/arm64-publish.sh: the arm64 guest has no gcc).
        var prebuilt = Path.Combine(AppContext.BaseDirectory, "libuprobe_target.so");
        if (File.Exists(prebuilt))
            return (prebuilt, null);
        var gcc = TestEnvironment.Which("gcc") ?? TestEnvironment.Which("cc");
        if (gcc == null) return (null, "gcc is not installed (apt-get install gcc; .ci/run installs it)");
        var src = Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Runtime.Tests", "Attach", "native", "uprobe_target.c");
        var dir = TestEnvironment.TempDir("ebpf-uprobe-target");
        var lib = Path.Combine(dir, "libuprobe_target.so");
        // the uprobes need the file while the process runs; it goes when the process ends
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        };
        var (code, _, err) = TestEnvironment.Run(gcc, new[] { "-O2", "-g", "-fPIC", "-shared", "-o", lib, src });
        if (code != 0) return (null, $"building {src} failed: {err}");
        return (lib, null);
    }

    /// <summary>The library's path (built on first use); skips the test when it cannot be built.</summary>
    public static string LibraryPath
    {
        get
        {
            var (path, error) = s_built.Value;
            if (path == null) Assert.Skip(error!);
            EnsureLoaded(path!);
            return path!;
        }
    }

    private static void EnsureLoaded(string path)
    {
        if (s_handle != IntPtr.Zero) return;
        lock (s_built)
        {
            if (s_handle != IntPtr.Zero) return;
            var h = NativeLibrary.Load(path);
            s_target = (delegate* unmanaged<int, int, int>)NativeLibrary.GetExport(h, "uprobe_target_func");
            s_fire = (delegate* unmanaged<long, long, int>)NativeLibrary.GetExport(h, "fire_probes");
            s_enabled = (delegate* unmanaged<int>)NativeLibrary.GetExport(h, "probe2_enabled");
            s_handle = h;
        }
    }

    /// <summary>The address of an exported function of the loaded library (LibraryPath loads it).</summary>
    public static IntPtr Export(string name) => NativeLibrary.GetExport(s_handle, name);

    public static int Target(int a, int b) => s_target(a, b);
    public static int FireProbes(long a, long b) => s_fire(a, b);
    public static bool Probe2Enabled => s_enabled() != 0;
}
