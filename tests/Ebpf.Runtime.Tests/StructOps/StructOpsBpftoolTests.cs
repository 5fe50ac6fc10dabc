using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ebpf.Elf;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Runtime.Tests.Reliability;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>
/// The same object registered by `bpftool struct_ops register` (libbpf) and by us gives the same kernel-visible
/// result: `bpftool struct_ops dump` of the registered map (map info, the kernel's value with every data member, each
/// callback's program) and `bpftool prog show` of every bound program (type, name, tag: a hash of the instructions
/// the loader handed the kernel, map fds left out; translated and JIT sizes; maps used). Kernel ids, load times and
/// the object's BTF id are the only things left out. Each registration is removed and its map and programs leave the
/// kernel before the next.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class StructOpsBpftoolTests
{
    /// <summary>Object, its struct_ops variable, the congestion-control name the object gives it.</summary>
    public static TheoryData<string, string, string> Objects() => new()
    {
        { "struct_ops_tcp.bpf.o", "ebpf_reno", "ebpf_reno" },
        { "selftests/bpf_cubic.bpf.o", "cubic", "bpf_cubic" },
    };

    private static readonly Regex s_boundProgram = new Regex(@"^(.*) (\w+)/prog_id:(\d+)$", RegexOptions.CultureInvariant);

    /// <summary>
    /// A copy of the object whose congestion control is called <paramref name="name"/> (the initializer of the
    /// struct_ops variable rewritten in the file), so that runs elsewhere on the machine cannot collide with it.
    /// </summary>
    private static string Renamed(string file, string objectName, string name)
    {
        byte[] bytes = File.ReadAllBytes(TestEnvironment.Bpf(file));
        var section = ElfFile.Parse(bytes).Sections.Single(s => s.Name == ".struct_ops");
        byte[] old = Encoding.ASCII.GetBytes(objectName + "\0");
        var data = bytes.AsSpan((int)section.Offset, (int)section.Size);
        int at = data.IndexOf(old);
        Assert.True(at >= 0 && data.Slice(at + 1).IndexOf(old) < 0, $"{file}: the name '{objectName}' is not once in .struct_ops");
        var field = data.Slice(at, 16); // tcp_congestion_ops.name is char[TCP_CA_NAME_MAX = 16]
        field.Clear();
        Encoding.ASCII.GetBytes(name).CopyTo(field);
        string path = Path.Combine(Path.GetTempPath(), $"ebpf-so-{name}.bpf.o");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Bpftool(string bpftool, params string[] args)
    {
        var (code, stdout, stderr) = TestEnvironment.Run(bpftool, args);
        Assert.True(code == 0, $"bpftool {string.Join(" ", args)} failed ({code}): {stderr}{stdout}");
        return stdout;
    }

    /// <summary>
    /// What the kernel shows of registered struct_ops map <paramref name="mapId"/>, one "path = value" line each,
    /// ids replaced by what they identify; <paramref name="ids"/> collects the map and program ids seen.
    /// </summary>
    private static List<string> KernelView(string bpftool, uint mapId, Dictionary<string, HashSet<uint>> ids)
    {
        string dump = Bpftool(bpftool, "-j", "struct_ops", "dump", "id", mapId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Trim();
        if (!dump.StartsWith('[')) dump = "[" + dump + "]"; // bpftool 7.1 prints the map info and the value as two objects
        var lines = new List<string>();
        ids["map"].Add(mapId);
        using var doc = JsonDocument.Parse(dump);
        foreach (var part in doc.RootElement.EnumerateArray())
            Flatten(bpftool, part, string.Empty, lines, ids);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static void Flatten(string bpftool, JsonElement e, string path, List<string> lines, Dictionary<string, HashSet<uint>> ids)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    // Ids the kernel gave this load, and the object's own BTF (loaded by each loader).
                    if (path == "bpf_map_info" && p.Name is "id" or "btf_id") continue;
                    Flatten(bpftool, p.Value, path.Length == 0 ? p.Name : path + "." + p.Name, lines, ids);
                }
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in e.EnumerateArray())
                    Flatten(bpftool, item, $"{path}[{i++}]", lines, ids);
                break;
            case JsonValueKind.String when s_boundProgram.Match(e.GetString()!) is { Success: true } m:
            {
                // A callback: "<prototype> <program name>/prog_id:<id>", the kernel's record of the bound program.
                uint progId = uint.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
                ids["prog"].Add(progId);
                lines.Add($"{path} = {m.Groups[1].Value} {m.Groups[2].Value}");
                using var prog = JsonDocument.Parse(Bpftool(bpftool, "-j", "prog", "show", "id", m.Groups[3].Value));
                var p = prog.RootElement;
                foreach (var key in new[] { "type", "name", "tag", "gpl_compatible", "bytes_xlated", "jited", "bytes_jited" })
                    lines.Add($"{path} -> prog.{key} = {(p.TryGetProperty(key, out var v) ? v.ToString() : "(absent)")}");
                lines.Add($"{path} -> prog.maps = {(p.TryGetProperty("map_ids", out var maps) ? maps.GetArrayLength() : 0)}");
                break;
            }
            default:
                lines.Add($"{path} = {e}");
                break;
        }
    }

    private static Dictionary<string, HashSet<uint>> NoIds() => new() { ["map"] = new HashSet<uint>(), ["prog"] = new HashSet<uint>() };

    private static void AssertGone(string who, string cc, Dictionary<string, HashSet<uint>> ids)
    {
        Assert.True(AttachSupport.Eventually(() => !IsAvailable(cc), 5000), $"{cc} is still registered after {who} removed it");
        var left = KernelObjectAudit.StillListed(ids);
        Assert.True(left is { Count: 0 }, $"after {who} removed {cc}, the kernel still has: {string.Join(", ", left ?? new List<string>())}");
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void RegisteredByBpftoolAndByUs_TheKernelSeesTheSameValueAndPrograms(string file, string variable, string objectName)
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string bpftool = TestEnvironment.RequireTool("bpftool", "bpftool");
        string cc = UniqueName("ebb");
        string path = Renamed(file, objectName, cc);
        var output = TestContext.Current.TestOutputHelper;
        try
        {
            // libbpf: bpftool loads the object, registers its struct_ops maps (by map update: libbpf 1.1 predates
            // .struct_ops.link) and exits; the registration holds the map and its programs.
            List<string>? theirs = null;
            var theirIds = NoIds();
            string? theirError = null;
            var (code, stdout, stderr) = TestEnvironment.Run(bpftool, new[] { "struct_ops", "register", path });
            var registered = Regex.Match(stdout + stderr, @"Registered \w+ \w+ id (\d+)");
            if (code == 0 && registered.Success)
            {
                try
                {
                    theirs = KernelView(bpftool, uint.Parse(registered.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), theirIds);
                    Assert.True(IsAvailable(cc), $"bpftool registered {cc}, but it is not in tcp_available_congestion_control");
                }
                finally
                {
                    Bpftool(bpftool, "struct_ops", "unregister", "id", registered.Groups[1].Value);
                }
                AssertGone("bpftool struct_ops unregister", cc, theirIds);
            }
            else
            {
                theirError = (stderr + stdout).Trim();
                Assert.False(IsAvailable(cc), $"bpftool failed ({theirError}) but {cc} is registered");
            }

            // Us, from the same file.
            List<string>? ours = null;
            var ourIds = NoIds();
            string? ourError = null;
            using (var obj = BpfObject.Open(path))
            {
                try
                {
                    obj.Load();
                    obj.GetStructOps(variable).Attach();
                    ours = KernelView(bpftool, obj.GetStructOps(variable).Map.Id, ourIds);
                    Assert.True(IsAvailable(cc));
                }
                catch (BpfException e) when (theirError != null)
                {
                    ourError = e.Message;
                }
            }
            if (ours != null) AssertGone("Dispose", cc, ourIds);

            if (theirError != null)
            {
                // The kernel refuses this object here (libbpf's verifier log is bpftool's error): so must it refuse ours.
                output?.WriteLine($"{file} on {KernelRelease()}: bpftool: {theirError}\nours: {ourError}");
                Assert.True(ourError != null, $"bpftool could not register {file} ({theirError}), but we did");
                return;
            }
            Assert.NotNull(theirs);
            Assert.NotNull(ours);
            output?.WriteLine($"{file} on {KernelRelease()}: {theirs.Count} lines of the kernel's view, {theirIds["prog"].Count} programs");
            foreach (var line in ours) output?.WriteLine("  " + line);
            var diff = theirs.Except(ours).Select(l => "bpftool: " + l).Concat(ours.Except(theirs).Select(l => "ours:    " + l)).ToList();
            Assert.True(diff.Count == 0, $"the kernel sees {file} differently when bpftool registers it and when we do:\n{string.Join("\n", diff)}");
            Assert.Equal(theirs, ours);
            Assert.Contains(ours, l => l.EndsWith($".name = {cc}", StringComparison.Ordinal));
            Assert.Contains(ours, l => l.Contains("BPF_STRUCT_OPS_STATE_INUSE", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }

}
