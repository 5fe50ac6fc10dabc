using Ebpf.Btf;
using Ebpf.Core;
using Xunit;

namespace Ebpf.Tests;

/// <summary>
/// One comparison of CO-RE decisions for one object: against a kernel's full BTF and against a minimized BTF of the
/// same kernel (what <c>btf min-core</c> writes and the build embeds). Compiled into the object-layer tests and the
/// generator tests (which check what a package build embedded).
/// </summary>
internal static class CoreDecisions
{
    /// <summary>
    /// Asserts that every decision is the same: status, kind, poisoned, old, new and target values, memory size,
    /// error kind and candidate count. A kernel type id (type_id_target) differs between the two BTFs: the types it
    /// names must be the same (kind and name). Returns the number of decisions compared.
    /// </summary>
    public static int AssertSame(string what, CoreRelocationReport full, BtfSpec fullBtf, CoreRelocationReport min, BtfSpec minBtf)
    {
        Assert.Equal(full.Results.Count, min.Results.Count);
        for (int i = 0; i < full.Results.Count; i++)
        {
            var f = full.Results[i];
            var m = min.Results[i];
            string where = $"{what}: {f}";
            Assert.True(f.Status == m.Status, $"{where}: status {f.Status} against the full BTF, {m.Status} against the minimized one ({m})");
            Assert.Equal(f.Kind, m.Kind);
            Assert.Equal(f.Poisoned, m.Poisoned);
            Assert.Equal(f.OldValue, m.OldValue);
            if (f.Kind == CoreReloKind.TypeIdTarget && f.Status == CoreRelocationStatus.Applied && f.NewValue is long id && id != 0)
            {
                Assert.True(m.NewValue is long mid && mid > 0, $"{where}: type id {id} against the full BTF, {m.NewValue} against the minimized one");
                int minId = (int)m.NewValue!.Value;
                Assert.True(fullBtf.GetKind((int)id) == minBtf.GetKind(minId) && fullBtf.GetName((int)id) == minBtf.GetName(minId),
                    $"{where}: type id {id} ({fullBtf.GetKind((int)id)} '{fullBtf.GetName((int)id)}') against the full BTF, {minId} ({minBtf.GetKind(minId)} '{minBtf.GetName(minId)}') against the minimized one");
            }
            else
            {
                Assert.True(f.NewValue == m.NewValue, $"{where}: new value {f.NewValue} against the full BTF, {m.NewValue} against the minimized one");
                Assert.True(f.TargetValue == m.TargetValue, $"{where}: target value {f.TargetValue} against the full BTF, {m.TargetValue} against the minimized one");
            }
            Assert.Equal(f.NewMemorySize, m.NewMemorySize);
            Assert.Equal(f.ErrorKind, m.ErrorKind);
            Assert.Equal(f.Matched.Count, m.Matched.Count);
        }
        return full.Results.Count;
    }
}
