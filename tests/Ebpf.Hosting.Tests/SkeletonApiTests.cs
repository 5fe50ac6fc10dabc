using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Hosting.Tests;

/// <summary>
/// The generated skeleton as a new user meets it, on the real kernel: typed programs say whether they load and what
/// the kernel calls them, their own Attach() gives the kind's link, and the skeleton owns every link of its programs.
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class SkeletonApiTests : IDisposable
{
    private readonly TriggerThread _trigger = new TriggerThread();

    public void Dispose() => _trigger.Dispose();

    [Fact]
    public void TypedProgramsAndLinksNeedNoUntypedDetour()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        TracepointLink link;
        using (var skel = MetricsSkeleton.Open())
        {
            skel.Rodata.TargetTid = (uint)_trigger.Tid;
            var emit = skel.Programs.Emit;
            Assert.True(emit.Autoload);
            Assert.False(emit.IsLoaded);
            Assert.Equal(0u, emit.Id);
            Assert.Null(skel.Links.Emit);

            skel.Load();
            Assert.True(emit.IsLoaded);
            Assert.NotEqual(0u, emit.Id);
            Assert.Equal(emit.Program.Id, emit.Id);
            Assert.Throws<InvalidOperationException>(() => emit.Autoload = false);

            // The wrapper's own Attach(): the kind's link, which the skeleton's Links show and its Detach removes.
            link = emit.Attach();
            Assert.Same(link, skel.Links.Emit);
            _trigger.GetPid(3);
            Assert.Equal(3UL, skel.Bss.Calls);
            skel.Attach(); // the program is attached already: no second link
            Assert.Same(link, Assert.Single(skel.Object.Links));
            skel.Detach();
            Assert.True(link.IsDisposed);
            Assert.Null(skel.Links.Emit);
            _trigger.GetPid(2);
            Assert.Equal(3UL, skel.Bss.Calls);

            link = emit.Attach();
            Assert.Same(link, skel.Links.Emit);
            _trigger.GetPid(1);
            Assert.Equal(4UL, skel.Bss.Calls);
        }
        // Disposing the skeleton removed the link its program's Attach() made.
        Assert.True(link.IsDisposed);
        Assert.False(link.IsAttached);
        Assert.Throws<ObjectDisposedException>(() => link.Pin("/sys/fs/bpf/never"));
    }
}
