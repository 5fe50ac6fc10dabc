using System.IO;
using System.Linq;
using System.Text.Json;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Cli.Tests;

public class ObjectInfoCommandTests
{
    [Fact]
    public void StructOpsMapsShowTheirStructMembersAndCallbacks()
    {
        string obj = TestEnvironment.Bpf("struct_ops_edge");
        var r = CliRunner.Run("object", "info", obj);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("  edge_ssthresh    struct_ops/edge_ssthresh    struct_ops  -                2\n    implements tcp_congestion_ops.ssthresh\n", r.StdOut);
        string expected =
            "struct_ops (2):\n" +
            "  future_reno: struct tcp_congestion_ops, 64 bytes, .struct_ops (registered by map update)\n" +
            "    MEMBER       OFFSET  SIZE  KIND      VALUE\n" +
            "    ssthresh          0     8  callback  edge_ssthresh\n" +
            "    cong_avoid        8     8  callback  edge_cong_avoid\n" +
            "    undo_cwnd        16     8  callback  edge_undo_cwnd\n" +
            "    reserved_cb      24     8  callback  NULL\n" +
            "    future_knob      32     8  data      0\n" +
            "    flags            40     4  data      0\n" +
            "    name             44    16  data      \"ebpf_edge\"\n" +
            "  no_such: struct ebpf_no_such_ops, 16 bytes, .struct_ops (registered by map update), not created by default (SEC(\"?...\"))\n" +
            "    MEMBER  OFFSET  SIZE  KIND      VALUE\n" +
            "    run          0     8  callback  no_such_run\n" +
            "    level        8     4  data      3 (0x3)\n";
        Assert.Contains(expected, r.StdOut);

        var json = CliRunner.Run("object", "info", TestEnvironment.Bpf("struct_ops_tcp_link"), "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.StdOut);
        var map = doc.RootElement.GetProperty("maps").EnumerateArray().First(m => m.GetProperty("name").GetString() == "ebpf_reno_next");
        Assert.Equal("struct_ops", map.GetProperty("type").GetString());
        Assert.Equal("struct_ops", map.GetProperty("origin").GetString());
        var ops = map.GetProperty("struct_ops");
        Assert.Equal("tcp_congestion_ops", ops.GetProperty("type").GetString());
        Assert.True(ops.GetProperty("link").GetBoolean());
        var init = ops.GetProperty("members").EnumerateArray().First(m => m.GetProperty("name").GetString() == "init");
        Assert.Equal("ebpf_reno_init", init.GetProperty("program").GetString());
        var prog = doc.RootElement.GetProperty("programs").EnumerateArray().First(p => p.GetProperty("name").GetString() == "ebpf_reno_init");
        Assert.Equal("tcp_congestion_ops.init", prog.GetProperty("struct_ops_member").GetString());
    }

    [Fact]
    public void GlobalsListingIsExact()
    {
        string obj = TestEnvironment.Bpf("globals");
        var r = CliRunner.Run("object", "info", obj);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.StdErr);
        string expected =
            $"{obj}: BPF object 'globals' (little-endian)\n" +
            "  license            GPL (GPL-compatible)\n" +
            "  kernel version     none\n" +
            "  BTF                57 types\n" +
            "  CO-RE relocations  0\n" +
            "\n" +
            "maps (5):\n" +
            "  NAME            TYPE   KEY  VALUE  MAX_ENTRIES  FLAGS                         PINNING  SECTION\n" +
            "  globals.rodata  array    4     79            1  0x480 (rdonly_prog|mmapable)  none     .rodata\n" +
            "  globals.data    array    4     20            1  0x400 (mmapable)              none     .data\n" +
            "  .data.custom    array    4     16            1  0x400 (mmapable)              none     .data.custom\n" +
            "  .rodata.custom  array    4     20            1  0x480 (rdonly_prog|mmapable)  none     .rodata.custom\n" +
            "  globals.bss     array    4     96            1  0x400 (mmapable)              none     .bss\n" +
            "\n" +
            "programs (2):\n" +
            "  NAME       SECTION                       TYPE        ATTACH_TYPE  INSNS\n" +
            "  on_getpid  tp/syscalls/sys_enter_getpid  tracepoint  -               70\n" +
            "  run        xdp                           xdp         xdp             72\n" +
            "\n" +
            "data sections (5):\n" +
            "  .rodata: map globals.rodata, 79 bytes, read-only\n" +
            "    OFFSET  SIZE  NAME                      TYPE\n" +
            "         0     4  target_pid                volatile const __u32\n" +
            "         8    24  cfg                       volatile const struct config\n" +
            "        32    16  weights                   volatile const __u32[4]\n" +
            "        48     1  verbose                   volatile const bool\n" +
            "        49    30  account.____fmt (static)  const char[30]\n" +
            "  .data: map globals.data, 20 bytes, read-write\n" +
            "    OFFSET  SIZE  NAME          TYPE\n" +
            "         0     8  data_counter  __u64\n" +
            "         8     8  data_tag      char[8]\n" +
            "        16     4  data_signed   __s32\n" +
            "  .data.custom: map .data.custom, 16 bytes, read-write\n" +
            "    OFFSET  SIZE  NAME            TYPE\n" +
            "         0     8  custom_counter  __u64\n" +
            "         8     8  custom_array    __u32[2]\n" +
            "  .rodata.custom: map .rodata.custom, 20 bytes, read-only\n" +
            "    OFFSET  SIZE  NAME         TYPE\n" +
            "         0     4  custom_step  volatile const __u32\n" +
            "         4    16  custom_name  volatile const char[16]\n" +
            "  .bss: map globals.bss, 96 bytes, zero-initialised\n" +
            "    OFFSET  SIZE  NAME       TYPE\n" +
            "         0     8  bss_calls  __u64\n" +
            "         8    64  bss_hist   __u64[8]\n" +
            "        72    24  bss_stats  struct stats\n";
        Assert.Equal(expected, r.StdOut);
    }

    [Fact]
    public void MapInMapShowsInnerMapAndInitialSlots()
    {
        var r = CliRunner.Run("object", "info", TestEnvironment.Bpf("map_in_map"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(
            "  outer_array  array_of_maps    4      4            4  0      none     .maps\n" +
            "    inner map: array, key 4, value 8, max_entries 1\n" +
            "    initial slots: [0] = map inner_a, [2] = map inner_b\n" +
            "  outer_hash   hash_of_maps     4      4            8  0      none     .maps\n" +
            "    inner map: array, key 4, value 8, max_entries 1\n" +
            "    initial slots: [1] = map inner_b\n", r.StdOut);
        Assert.Contains("data sections (0):\n", r.StdOut);
    }

    [Fact]
    public void ProgArrayShowsProgramSlots()
    {
        var r = CliRunner.Run("object", "info", TestEnvironment.Bpf("prog_array"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(
            "  jump_table    prog_array    4      4            4  0                 none     .maps\n" +
            "    initial slots: [0] = program tail_a, [2] = program tail_b\n", r.StdOut);
        Assert.Contains("  tail_entry  xdp      xdp   xdp             16\n", r.StdOut);
    }

    [Fact]
    public void ExecSnoopProgramsAreTracepoints()
    {
        var r = CliRunner.Run("object", "info", TestEnvironment.Bpf("exec_snoop"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(
            "programs (2):\n" +
            "  NAME         SECTION                      TYPE        ATTACH_TYPE  INSNS\n" +
            "  handle_exec  tp/sched/sched_process_exec  tracepoint  -               79\n" +
            "  handle_exit  tp/sched/sched_process_exit  tracepoint  -               99\n", r.StdOut);
        Assert.Contains("  license            Dual BSD/GPL (GPL-compatible)\n", r.StdOut);
        Assert.Contains("  CO-RE relocations  6\n", r.StdOut);
        Assert.Contains("  rb               ringbuf    0      0       262144  0", r.StdOut);
        Assert.Contains("         0     8  min_duration_ns  volatile const unsigned long long\n", r.StdOut);
    }

    [Fact]
    public void AttachTypesAutoloadAndExterns()
    {
        var fentry = CliRunner.Run("object", "info", TestEnvironment.Bpf("attach_fentry"));
        Assert.True(fentry.ExitCode == 0, fentry.ToString());
        Assert.Contains("  unlink_entry    fentry/do_unlinkat              tracing  trace_fentry      18\n", fentry.StdOut);
        Assert.Contains("  getpgid_modret  fmod_ret/security_task_getpgid  tracing  modify_return     18\n", fentry.StdOut);

        var externs = CliRunner.Run("object", "info", TestEnvironment.Bpf("externs"));
        Assert.True(externs.ExitCode == 0, externs.ToString());
        Assert.Contains("  read_kconfig  xdp      xdp   xdp             38\n", externs.StdOut);
        Assert.Contains("externs (9):\n", externs.StdOut);
        Assert.Contains("  CONFIG_BPF_SYSCALL         kconfig  bool, 1 byte at offset 16\n", externs.StdOut);
        Assert.Contains("  does_not_exist_ksym        ksym     address, weak\n", externs.StdOut);

        var maps = CliRunner.Run("object", "info", TestEnvironment.Bpf("maps"));
        Assert.Contains("  lpm_map              lpm_trie            8      4           32  0x1 (no_prealloc)  none     .maps\n", maps.StdOut);
        Assert.Contains("  pinned_map           hash                4      8           16  0                  by_name  .maps\n", maps.StdOut);
    }

    [Fact]
    public void JsonHasTheSpecifiedFields()
    {
        var r = CliRunner.Run("object", "info", TestEnvironment.Bpf("globals"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.Equal("GPL", root.GetProperty("license").GetString());
        Assert.Equal(0u, root.GetProperty("kernel_version").GetUInt32());
        Assert.Equal("globals", root.GetProperty("object").GetString());

        var maps = root.GetProperty("maps").EnumerateArray().ToList();
        Assert.Equal(new[] { "globals.rodata", "globals.data", ".data.custom", ".rodata.custom", "globals.bss" }, maps.Select(m => m.GetProperty("name").GetString()));
        var rodata = maps[0];
        Assert.Equal(new[] { "name", "type", "key_size", "value_size", "max_entries", "flags", "pinning", "inner_map" },
            rodata.EnumerateObject().Take(8).Select(p => p.Name));
        Assert.Equal("array", rodata.GetProperty("type").GetString());
        Assert.Equal(4, rodata.GetProperty("key_size").GetInt32());
        Assert.Equal(79, rodata.GetProperty("value_size").GetInt32());
        Assert.Equal(1, rodata.GetProperty("max_entries").GetInt32());
        Assert.Equal(0x480, rodata.GetProperty("flags").GetInt32());
        Assert.Equal("none", rodata.GetProperty("pinning").GetString());
        Assert.Equal(JsonValueKind.Null, rodata.GetProperty("inner_map").ValueKind);

        var progs = root.GetProperty("programs").EnumerateArray().ToList();
        Assert.Equal(2, progs.Count);
        Assert.Equal("on_getpid", progs[0].GetProperty("name").GetString());
        Assert.Equal("tp/syscalls/sys_enter_getpid", progs[0].GetProperty("section").GetString());
        Assert.Equal("tracepoint", progs[0].GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, progs[0].GetProperty("expected_attach_type").ValueKind);
        Assert.Equal(70, progs[0].GetProperty("instructions").GetInt32());
        Assert.Equal("xdp", progs[1].GetProperty("type").GetString());

        var sections = root.GetProperty("data_sections").EnumerateArray().ToList();
        Assert.Equal(new[] { ".rodata", ".data", ".data.custom", ".rodata.custom", ".bss" }, sections.Select(s => s.GetProperty("name").GetString()));
        var vars = sections[0].GetProperty("variables").EnumerateArray().ToList();
        Assert.Equal("cfg", vars[1].GetProperty("name").GetString());
        Assert.Equal(8, vars[1].GetProperty("offset").GetInt32());
        Assert.Equal(24, vars[1].GetProperty("size").GetInt32());
        Assert.Equal("volatile const struct config", vars[1].GetProperty("type").GetString());
        Assert.Equal("static", vars[4].GetProperty("linkage").GetString());
        var bss = sections[4].GetProperty("variables").EnumerateArray().Select(v => (v.GetProperty("name").GetString()!, v.GetProperty("type").GetString()!)).ToList();
        Assert.Equal(new[] { ("bss_calls", "__u64"), ("bss_hist", "__u64[8]"), ("bss_stats", "struct stats") }, bss);
    }

    [Fact]
    public void JsonInnerMapsSlotsAndAttachTypes()
    {
        var mim = CliRunner.Run("object", "info", TestEnvironment.Bpf("map_in_map"), "--json");
        Assert.True(mim.ExitCode == 0, mim.ToString());
        using var doc = JsonDocument.Parse(mim.StdOut);
        var outer = doc.RootElement.GetProperty("maps").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "outer_array");
        Assert.Equal("array_of_maps", outer.GetProperty("type").GetString());
        var inner = outer.GetProperty("inner_map");
        Assert.Equal("array", inner.GetProperty("type").GetString());
        Assert.Equal(4, inner.GetProperty("key_size").GetInt32());
        Assert.Equal(8, inner.GetProperty("value_size").GetInt32());
        Assert.Equal(1, inner.GetProperty("max_entries").GetInt32());
        var slots = outer.GetProperty("initial_slots").EnumerateArray().Select(s => (s.GetProperty("index").GetInt32(), s.GetProperty("map").GetString()!)).ToList();
        Assert.Equal(new[] { (0, "inner_a"), (2, "inner_b") }, slots);

        var fentry = CliRunner.Run("object", "info", TestEnvironment.Bpf("attach_fentry"), "--json");
        using var fdoc = JsonDocument.Parse(fentry.StdOut);
        var p = fdoc.RootElement.GetProperty("programs")[0];
        Assert.Equal("tracing", p.GetProperty("type").GetString());
        Assert.Equal("trace_fentry", p.GetProperty("expected_attach_type").GetString());
        Assert.Equal("do_unlinkat", p.GetProperty("attach_target").GetString());
    }

    [Fact]
    public void BigEndianObjectsCanBeInspected()
    {
        var r = CliRunner.Run("object", "info", TestEnvironment.Bpf("globals.bpfeb.o"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith($"{TestEnvironment.Bpf("globals.bpfeb.o")}: BPF object 'globals' (big-endian)\n", r.StdOut);
        Assert.Contains("  globals.rodata  array    4     79            1", r.StdOut);
    }

    [Fact]
    public void GzipObject()
    {
        using var dir = new TempDir();
        var gz = dir.Gzip("globals.bpf.o.gz", File.ReadAllBytes(TestEnvironment.Bpf("globals")));
        var r = CliRunner.Run("object", "info", gz);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("BPF object 'globals'", r.StdOut);
    }

    [Theory]
    [InlineData("broken/notelf.bin", "ELF: at offset 0x0 (0): not an ELF file")]
    [InlineData("broken/truncated.bpf.o", "ELF: at offset 0x28 (40): section header table offset")]
    public void FormatErrorsNameTheFileAndOffset(string name, string message)
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "bpf", name);
        var r = CliRunner.Run("object", "info", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.StartsWith($"dotnet-ebpf: {path}: {message}", r.StdErr);
        Assert.Equal(1, r.StdErr.Count(c => c == '\n'));
    }

    [Fact]
    public void MissingFileAndUsageErrors()
    {
        var missing = CliRunner.Run("object", "info", "/nonexistent/x.bpf.o");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("dotnet-ebpf: /nonexistent/x.bpf.o: no such file\n", missing.StdErr);

        var usage = CliRunner.Run("object", "info");
        Assert.Equal(2, usage.ExitCode);
        var extra = CliRunner.Run("object", "info", TestEnvironment.Bpf("globals"), "--bogus");
        Assert.Equal(2, extra.ExitCode);
    }
}
