using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// Each system call of a struct_ops load, registration (map update; BPF_LINK_CREATE), link update, detach and
/// dispose fails in turn: the result is a typed error (or a clean success where the call was optional), every
/// descriptor is closed, and the congestion control is not left registered.
/// </summary>
[Collection(FdAccountingCollection.Name)]
public class StructOpsFaultInjectionTests
{
    private static readonly int[] Errnos = { Errno.EPERM, Errno.EINVAL, Errno.ENOMEM, Errno.EBUSY };

    private static void Scenario(string file, string[] names)
    {
        using var obj = BpfObject.Open(TestEnvironment.Bpf(file));
        for (int i = 0; i < obj.StructOps.Count; i++)
            obj.StructOps[i].SetString("name", names[i]);
        obj.Load();
        if (obj.StructOps.Count == 1)
        {
            obj.Attach();
            obj.Detach();
            return;
        }
        using var link = obj.StructOps[0].Attach();
        link.Update(obj.StructOps[1]);
        link.Detach();
    }

    [Theory]
    [InlineData("struct_ops_tcp", 1)]
    [InlineData("struct_ops_tcp_link", 2)]
    public void EveryFailingStructOpsSyscallEndsCleanlyAndLeavesNothingRegistered(string file, int maps)
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        var fake = new FaultInjectingSyscalls();
        using var _ = Syscalls.Override(fake);
        string Name() => UniqueName("ebf");
        string[] Names(string shared) => Enumerable.Repeat(shared, maps).ToArray(); // a link moves only under the same name

        Exception? Try(string[] names)
        {
            try
            {
                Scenario(file, names);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }

        var warm = Try(Names(Name()));
        if (warm is BpfNotSupportedException ns)
            Assert.Skip(ns.Message); // struct_ops links before 6.4
        Assert.True(warm == null, $"{file}: the scenario fails without injected faults: {warm}");
        fake.Reset();
        Assert.Null(Try(Names(Name())));
        var calls = fake.Calls;
        Assert.Contains(calls, c => c.Contains("BPF_MAP_UPDATE_ELEM", StringComparison.Ordinal));

        var problems = new List<string>();
        var used = new List<string>();
        int runs = 0;
        for (int k = 0; k < calls.Count; k++)
        {
            foreach (int errno in Errnos)
            {
                string name = Name();
                used.Add(name);
                fake.Reset(k, errno);
                var e = Try(Names(name));
                runs++;
                string where = $"call #{k} {fake.FailedCall ?? calls[k]} failing with {Errno.Name(errno)}";
                if (FaultInjectionTests.Check(e, fake, errno) is { } problem)
                    problems.Add($"{where}: {problem}");
                if (fake.OpenDescriptors.Count != 0)
                {
                    problems.Add($"{where}: descriptors left open: {string.Join(", ", fake.OpenDescriptors.Select(kv => $"{kv.Key} ({kv.Value})"))}");
                    foreach (var fd in fake.OpenDescriptors.Keys) fake.Close(fd);
                }
                if (IsAvailable(name))
                    problems.Add($"{where}: congestion control {name} is still registered");
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{file}: {calls.Count} calls x {Errnos.Length} errnos = {runs} runs");
        Assert.True(problems.Count == 0, $"{file}: {problems.Count} problems:\n" + string.Join("\n", problems.Take(40)));
        FaultInjectionTests.AssertNothingLeftInTheKernel(fake);
        var left = used.Where(IsAvailable).ToList();
        Assert.True(left.Count == 0, $"still registered: {string.Join(", ", left)}");
    }
}
