using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

public class CoreRelocateCommandTests
{
    private static string StoredBtf(string name) => Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", name);

    private static string Kernel61 => StoredBtf("6.1.0-56-amd64.btf.gz");

    private static string AdversarialObject(string name) =>
        Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Objects.Tests", "Core", "Data", name);

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static readonly string[] s_keys = { "section", "program", "relo", "insn", "kind", "type", "spec", "old", "new", "poisoned", "error" };

    [Fact]
    public void JsonLinesHaveTheSpecifiedKeysInOrder()
    {
        var r = CliRunner.Run("core", "relocate", TestEnvironment.Bpf("core_enums"), "--target-btf", Kernel61, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.StdErr);
        var lines = JsonLines(r.StdOut);
        Assert.Equal(10, lines.Count);
        Assert.Equal(10, r.StdOut.Count(c => c == '\n'));
        foreach (var l in lines)
            Assert.Equal(s_keys, l.EnumerateObject().Select(p => p.Name));

        // An applied relocation: numbers are numbers, error is null.
        var first = lines[0];
        Assert.Equal("xdp", first.GetProperty("section").GetString());
        Assert.Equal("probe_enums", first.GetProperty("program").GetString());
        Assert.Equal(0, first.GetProperty("relo").GetInt32());
        Assert.Equal(0, first.GetProperty("insn").GetInt32());
        Assert.Equal("enumval_exists", first.GetProperty("kind").GetString());
        Assert.Equal("enum bpf_map_type", first.GetProperty("type").GetString());
        Assert.Equal("29", first.GetProperty("spec").GetString());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("old").ValueKind);
        Assert.Equal(1, first.GetProperty("new").GetInt64());
        Assert.False(first.GetProperty("poisoned").GetBoolean());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("error").ValueKind);

        // A negative 64-bit enumerator stays a signed number.
        Assert.Equal(-4095, lines[6].GetProperty("new").GetInt64());
        Assert.Equal("enum64 perf_callchain_context", lines[6].GetProperty("type").GetString());

        // Poisoned: new is null, the reason is in error.
        var poisoned = lines[4];
        Assert.Equal("enumval_value", poisoned.GetProperty("kind").GetString());
        Assert.True(poisoned.GetProperty("poisoned").GetBoolean());
        Assert.Equal(1001, poisoned.GetProperty("old").GetInt64());
        Assert.Equal(JsonValueKind.Null, poisoned.GetProperty("new").ValueKind);
        Assert.Contains("BPF_MAP_TYPE_NOT_A_MAP___local", poisoned.GetProperty("error").GetString());
        Assert.Equal(2, lines.Count(l => l.GetProperty("poisoned").GetBoolean()));
    }

    [Fact]
    public void SeveralObjectsAddTheObjectKey()
    {
        string enums = TestEnvironment.Bpf("core_enums"), comm = TestEnvironment.Bpf("core_comm");
        var r = CliRunner.Run("core", "relocate", enums, comm, "--target-btf", Kernel61, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = JsonLines(r.StdOut);
        Assert.Equal(11, lines.Count);
        foreach (var l in lines)
            Assert.Equal(s_keys.Append("object"), l.EnumerateObject().Select(p => p.Name));
        Assert.Equal(10, lines.Count(l => l.GetProperty("object").GetString() == enums));
        var c = lines.Last();
        Assert.Equal(comm, c.GetProperty("object").GetString());
        Assert.Equal("tp/syscalls/sys_enter_getpid", c.GetProperty("section").GetString());
        Assert.Equal("handle_getpid", c.GetProperty("program").GetString());
        Assert.Equal("byte_off", c.GetProperty("kind").GetString());
        Assert.Equal("struct task_struct", c.GetProperty("type").GetString());
        Assert.Equal("0:125", c.GetProperty("spec").GetString());
    }

    [Fact]
    public void TableShowsOldToNewAndPoisoned()
    {
        string obj = TestEnvironment.Bpf("core_flavors");
        var r = CliRunner.Run("core", "relocate", obj, "--target-btf", Kernel61);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.StdOut.Split('\n');
        Assert.Equal($"{obj} against {Kernel61}: 4 CO-RE relocations, 2 applied, 2 poisoned", lines[0]);
        Assert.Equal("  SECTION                        PROGRAM               RELO  INSN  KIND          TYPE                          FIELD                          RESULT", lines[1]);
        Assert.Equal("  tp/syscalls/sys_enter_getpid   read_state               0    10  field_exists  struct task_struct___post514  task_struct___post514.__state  1 → 1", lines[2]);
        Assert.Equal("  tp/syscalls/sys_enter_getpid   read_state               1    12  byte_off      struct task_struct___post514  task_struct___post514.__state  0 → 24", lines[3]);
        Assert.StartsWith("  tp/syscalls/sys_enter_getpid   read_state               2    22  byte_off      struct task_struct___pre514   task_struct___pre514.state     POISONED: ", lines[4]);
        Assert.StartsWith("  ?tp/syscalls/sys_enter_getpid  read_state_unguarded     0    10  byte_off      struct task_struct___pre514   task_struct___pre514.state     POISONED: ", lines[5]);
        Assert.Equal("", lines[6]);
        Assert.Equal(7, lines.Length);
    }

    [Fact]
    public void AnObjectLibbpfRefusesExitsOneNamingObjectProgramAndRelocation()
    {
        string obj = AdversarialObject("adv_ambig_c14.bpf.o");
        if (!File.Exists(obj))
            Assert.Skip($"{obj} is missing");
        var r = CliRunner.Run("core", "relocate", obj, "--target-btf", Kernel61, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"dotnet-ebpf: {obj}: sec 'tp/syscalls/sys_enter_getpid' prog 'ambig': relo #0 (type_size struct perf_aux_event___a, ", r.StdErr);
        Assert.Contains("relocation decision ambiguity", r.StdErr);
        Assert.Contains("libbpf refuses this object", r.StdErr);
        Assert.Equal(1, r.StdErr.Count(c => c == '\n'));
        // The report is still printed, the fatal record with its error.
        var lines = JsonLines(r.StdOut);
        var fatal = lines.First(l => l.GetProperty("relo").GetInt32() == 0 && l.GetProperty("section").GetString() == "tp/syscalls/sys_enter_getpid");
        Assert.Equal(JsonValueKind.Null, fatal.GetProperty("new").ValueKind);
        Assert.False(fatal.GetProperty("poisoned").GetBoolean());
        Assert.Contains("ambiguity", fatal.GetProperty("error").GetString());

        var table = CliRunner.Run("core", "relocate", obj, "--target-btf", Kernel61);
        Assert.Equal(1, table.ExitCode);
        Assert.Contains("ERROR: relocation decision ambiguity", table.StdOut);
        Assert.Contains(" FAILED", table.StdOut.Split('\n')[0]);
    }

    [Fact]
    public void BigEndianAndBrokenObjectsAreRefused()
    {
        string be = TestEnvironment.Bpf("globals.bpfeb.o");
        var r = CliRunner.Run("core", "relocate", be, "--target-btf", Kernel61);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.StartsWith($"dotnet-ebpf: {be}: the object is big-endian", r.StdErr);

        string notelf = Path.Combine(TestEnvironment.RepoRoot, "bpf", "broken", "notelf.bin");
        var n = CliRunner.Run("core", "relocate", notelf, "--json");
        Assert.Equal(1, n.ExitCode);
        Assert.StartsWith($"dotnet-ebpf: {notelf}: ELF: at offset 0x0 (0):", n.StdErr);

        var missingBtf = CliRunner.Run("core", "relocate", TestEnvironment.Bpf("core_comm"), "--target-btf", "/nonexistent.btf");
        Assert.Equal(1, missingBtf.ExitCode);
        Assert.Equal("dotnet-ebpf: /nonexistent.btf: no such file\n", missingBtf.StdErr);

        // Several objects: the good ones are still reported, the exit code says something failed.
        var several = CliRunner.Run("core", "relocate", notelf, TestEnvironment.Bpf("core_comm"), "--target-btf", Kernel61, "--json");
        Assert.Equal(1, several.ExitCode);
        Assert.Single(JsonLines(several.StdOut));
        Assert.StartsWith($"dotnet-ebpf: {notelf}: ", several.StdErr);
    }

    [Fact]
    public void ObjectsWithoutRelocations()
    {
        string obj = TestEnvironment.Bpf("globals");
        var text = CliRunner.Run("core", "relocate", obj);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Equal($"{obj}: no CO-RE relocations\n", text.StdOut);
        var json = CliRunner.Run("core", "relocate", obj, "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal("", json.StdOut);
        var nobtf = CliRunner.Run("core", "relocate", Path.Combine(TestEnvironment.RepoRoot, "bpf", "broken", "nobtf.bpf.o"));
        Assert.Equal(0, nobtf.ExitCode);
        Assert.EndsWith(": no CO-RE relocations (no .BTF: built without -g)\n", nobtf.StdOut);
    }

    // ------------------------------------------------------------------ libbpf oracle

    private const string RunningKernel = "running kernel";

    public static TheoryData<string, string> OracleCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var obj in new[] { "core_fields", "core_types", "core_enums", "core_flavors", "core_comm", "exec_snoop", "large" })
            foreach (var target in new[] { RunningKernel, "6.1.0-56-amd64.btf.gz", "6.12.117+deb12-amd64.btf.gz" })
                data.Add(obj, target);
        return data;
    }

    private static readonly Lazy<string?> s_oracle = new Lazy<string?>(BuildOracle);

    private static string? s_oracleError;

    /// <summary>tests/oracle/core-oracle, built with make when missing; null (and the reason) when it cannot be built.</summary>
    private static string? BuildOracle()
    {
        string dir = Path.Combine(TestEnvironment.RepoRoot, "tests", "oracle");
        string exe = Path.Combine(dir, "core-oracle");
        if (File.Exists(exe))
            return exe;
        if (TestEnvironment.Which("make") is not { } make)
        {
            s_oracleError = "make is not installed";
            return null;
        }
        try
        {
            var (rc, _, err) = TestEnvironment.Run(make, new[] { "-C", dir });
            if (rc == 0 && File.Exists(exe))
                return exe;
            s_oracleError = $"make -C tests/oracle failed (needs libbpf-dev, libelf-dev, zlib1g-dev): {err.Trim()}";
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            s_oracleError = $"make -C tests/oracle failed: {e.Message}";
        }
        return null;
    }

    /// <summary>
    /// `dotnet ebpf core relocate --json` gives libbpf's decisions (tests/oracle/core-oracle, libbpf 1.1.2), line by
    /// line, on section, relo, insn, kind, old, new and poisoned (and program, type, spec).
    /// </summary>
    [Theory]
    [MemberData(nameof(OracleCases))]
    public void DecisionsEqualLibbpfOracle(string objectName, string target)
    {
        TestEnvironment.RequireRoot();
        if (target == RunningKernel)
            TestEnvironment.RequireKernelBtf();
        string? oracle = s_oracle.Value;
        if (oracle is null)
            Assert.Skip($"the libbpf oracle cannot be built: {s_oracleError}");
        string obj = TestEnvironment.Bpf(objectName);
        var targetArgs = target == RunningKernel ? Array.Empty<string>() : new[] { "--target-btf", StoredBtf(target) };

        var (rc, oracleOut, oracleErr) = TestEnvironment.Run(oracle!, new[] { obj, "--keep-going" }.Concat(targetArgs));
        if (rc != 0)
            Assert.Skip($"core-oracle exited {rc}: {oracleErr.Trim()}");
        var expected = JsonLines(oracleOut);

        var r = CliRunner.Run(new[] { "core", "relocate", obj, "--json" }.Concat(targetArgs).ToArray());
        Assert.True(r.ExitCode == 0, r.ToString());
        var actual = JsonLines(r.StdOut);

        Assert.True(expected.Count > 0, $"the oracle reported no relocations for {objectName}");
        Assert.Equal(expected.Count, actual.Count);
        int matched = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            string where = $"{objectName} against {target}, line {i + 1}: {a}";
            foreach (var key in new[] { "section", "program", "kind", "type", "spec" })
                Assert.True(e.GetProperty(key).ToString() == a.GetProperty(key).ToString(), $"{key} differs (libbpf: {e.GetProperty(key)}) in {where}");
            foreach (var key in new[] { "relo", "insn" })
                Assert.True(e.GetProperty(key).GetInt32() == a.GetProperty(key).GetInt32(), $"{key} differs (libbpf: {e.GetProperty(key)}) in {where}");
            foreach (var key in new[] { "old", "new" })
                Assert.True(Value(e.GetProperty(key)) == Value(a.GetProperty(key)), $"{key} differs (libbpf: {e.GetProperty(key)}) in {where}");
            Assert.True(e.GetProperty("poisoned").GetBoolean() == a.GetProperty("poisoned").GetBoolean(), $"poisoned differs in {where}");
            // Unresolved ones explain themselves; applied ones have no error.
            Assert.Equal(a.GetProperty("new").ValueKind == JsonValueKind.Null, a.GetProperty("error").ValueKind == JsonValueKind.String);
            matched++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{objectName} against {target}: {matched} relocations equal libbpf's");
    }

    private static long? Value(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetInt64();
}
