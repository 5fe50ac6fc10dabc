using Xunit;

namespace Ebpf.Runtime.Tests;

/// <summary>
/// Tests that count this process's open descriptors run in this collection, alone: descriptors are process-wide,
/// so any test running in parallel would change the count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdAccountingCollection
{
    public const string Name = "fd-accounting";
}
